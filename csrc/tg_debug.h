/* Invariant checks for debug builds (TAPEGRAD_DEBUG=1 pip install -e ., which
 * defines TG_DEBUG): TG_ASSERT(cond, msg) prints the file, the line and msg to
 * stderr and aborts when cond is false. In a release build it expands to
 * nothing, so a check costs no instruction and its condition is not evaluated:
 * never put an expression with a side effect in it.
 *
 * Abort, not an error code: a broken invariant means memory or the caller is
 * already wrong, and the sanitizers and a debugger want the stack as it is.
 */
#ifndef TG_DEBUG_H
#define TG_DEBUG_H

#ifdef TG_DEBUG
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TG_ASSERT(cond, msg)                                                          \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: tapegrad invariant broken: %s (%s)\n", __FILE__,  \
                    __LINE__, (msg), #cond);                                          \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* whether the n elements at a and the n at b share no byte: what restrict promises
 * (compared as integers: ordering pointers into different arrays is undefined) */
#define TG_DISJOINT(a, b, n)                                                          \
    ((uintptr_t)(a) + (n) * sizeof *(a) <= (uintptr_t)(b) ||                          \
     (uintptr_t)(b) + (n) * sizeof *(b) <= (uintptr_t)(a))
#else
#define TG_ASSERT(cond, msg) ((void)0)
#endif

#endif
