/* Record once, replay: a recorded scalar graph as a compact program.
 *
 * tapegrad.compile runs the user's function once, eagerly, and keeps the
 * nodes it recorded on the tape. tg_program_build turns the part of them an
 * output depends on into flat arrays: an op code and operand slots per
 * operation, the folded constants, and slots for values, local derivatives
 * and flags. A replay reads the current data of the input nodes (parameters,
 * argument Values, the recording's own constant leaves), recomputes every
 * value and local derivative with the very definitions of tg_ops.h, in tape
 * order, and writes them back into the recorded nodes, so that the engine's
 * own backward sweep, _prev and graph drawing see the new numbers.
 *
 * Slots: [0, ninputs) are the inputs, [ninputs, ninputs + nops) the
 * operations in tape order. No Python here; the replay needs no GIL.
 */
#ifndef TG_REPLAY_H
#define TG_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "tg_tape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tg_program_build found a node it cannot replay: one whose value Python gives
 * (a custom node) or one with a Python _backward. */
#define TG_ERR_CUSTOM (-5)

#define TG_NO_SLOT UINT32_MAX

typedef struct tg_program {
    uint32_t ninputs;
    uint32_t nops;
    tg_node **inputs;          /* read at each replay */
    uint8_t *fresh;            /* 1: a leaf the recording made: its grad restarts at 0 */
    tg_node **nodes;           /* the recorded operations, in tape order */
    uint8_t *op;               /* their op codes, as recorded */
    uint32_t *a;               /* slot of the first operand */
    uint32_t *b;               /* slot of the second, or TG_NO_SLOT: then y is the number */
    double *y;                 /* a folded constant or an exponent */
    double *value;             /* one per slot */
    uint8_t *flags;            /* one per slot: TG_INT_DATA, TG_LOCAL_ZERODIV, TG_LOCAL_RANGE */
    double *local;             /* two per operation */
} tg_program;

/* Builds the program of the operations recorded after sentinel (a node of the
 * tape of operations) that some node of outputs depends on; every other node
 * they reach is an input. TG_ERR_NOMEM, or TG_ERR_CUSTOM with *bad set to
 * the node that cannot be replayed. On error the program holds nothing. */
int tg_program_build(tg_program *program, const tg_node *sentinel, tg_node *const *outputs,
                     uint32_t noutputs, tg_node **bad);

void tg_program_free(tg_program *program);

/* How many recorded operations and fresh leaves have a live handle now. */
size_t tg_program_handles(const tg_program *program);

/* Recomputes every value, local derivative and flag from the inputs' data.
 * On an error (the status Python's float arithmetic would raise), *failed is
 * the operation that raised and nothing was written to the tape. */
int tg_program_forward(tg_program *program, uint32_t *failed);

/* Writes the values, local derivatives and flags of the last forward into
 * the recorded nodes, with a zero gradient, as a fresh eager graph has. */
void tg_program_write_back(tg_program *program);

/* A fused training step after a forward: zero_grad of the n parameters,
 * the reverse sweep from the operation root over flat arrays (grad has a
 * slot each; the inputs that are not parameters keep their gradient and add
 * to it, as eager backward does), then p.data -= lr[i] * p.grad. param_slot
 * is each parameter's input slot, or TG_NO_SLOT if the program does not use
 * it. A deferred derivative error leaves the tape untouched: *failed is its
 * operation. Writes no recorded node: a fused step returns numbers. */
int tg_program_step_sgd(tg_program *program, uint32_t root, double *grad, tg_node *const *params,
                        const uint32_t *param_slot, const double *lr, uint32_t nparams,
                        uint32_t *failed);

#ifdef __cplusplus
}
#endif

#endif
