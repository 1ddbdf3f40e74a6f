/* Record once, replay: a recorded scalar graph as a compact program.
 *
 * tapegrad.compile runs the user's function once, eagerly, and keeps the
 * nodes it recorded on the tape. tg_program_build turns the part of them an
 * output depends on into flat arrays: an op code and operand slots per
 * operation, the folded constants, and slots for values, local derivatives
 * and flags. A replay reads the current data of the input nodes (parameters,
 * argument Values, the recording's own constant leaves), recomputes every
 * value and local derivative with the very definitions of tg_ops.h, in tape
 * order, into the flat arrays.
 *
 * The recorded nodes are then written lazily: a replay writes its outputs
 * (few) and leaves the other nodes stale until something could observe them
 * (tg_program_flush); backward() from an output runs over the flat arrays
 * (tg_program_backward), in the order and with the arithmetic of the
 * engine's own sweep, so its gradients are the eager bits.
 *
 * Slots: [0, ninputs) are the inputs, [ninputs, ninputs + nops) the
 * operations in tape order, then nconstants slots that hold the numbers a
 * one-operand operation folded in (a constant, an exponent, or 0): every
 * operation reads its second operand, Value or number, as a slot. No Python
 * here; the replay needs no GIL.
 *
 * Local derivatives: the program keeps those of the ops whose derivative
 * costs more than its operands to read (powers, tanh, exp, log, sigmoid); the
 * others' (+, *, relu) are the same tg_ops.h functions run again on the
 * operand slots wherever they are read, which costs the forward no stores.
 */
#ifndef TG_REPLAY_H
#define TG_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "tg_ops.h"
#include "tg_tape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tg_program_build found a node it cannot replay: one whose value Python gives
 * (a custom node) or one with a Python _backward. */
#define TG_ERR_CUSTOM (-5)

#define TG_NO_SLOT UINT32_MAX

#define TG_CHAIN_LENGTH 0x7FFFu
#define TG_CHAIN_OF_INPUTS 0x8000u

/* The ops whose second operand is a Value's slot (the others': a constant slot). */
static inline int tg_replay_two_operands(int op)
{
    return op == TG_OP_ADD || op == TG_OP_MUL || op == TG_OP_POW;
}

typedef struct tg_program {
    uint32_t ninputs;
    uint32_t nops;
    tg_node **inputs;          /* read at each replay */
    uint8_t *fresh;            /* 1: a leaf the recording made: its grad restarts at 0 */
    tg_node **nodes;           /* the recorded operations, in tape order */
    uint8_t *op;               /* their op codes, as recorded */
    uint32_t *a;               /* slot of the first operand */
    uint32_t *b;               /* slot of the second: a Value's, or a constant slot */
    uint32_t nconstants;
    double *value;             /* one per slot, constants included */
    uint8_t *flags;            /* one per slot: TG_INT_DATA, TG_LOCAL_ZERODIV, TG_LOCAL_RANGE */
    double *local;             /* two per operation, written for the costlier ops (above) */
    double *grad;              /* one per slot: the flat backward's gradients */
    uint8_t *is_output;        /* one per operation: its node is an output, always written */
    /* Neuron chains, which a replay runs without a dispatch per operation:
     * n pairs from operation k, each a * of two slots older than the chain
     * and then a + of the sum before (older, for the first) and that
     * product; the products and the sums inside have no other consumer and
     * are no outputs. chain[k] (a *) and chain[k + 2n - 1] (the last +)
     * hold n (TG_CHAIN_LENGTH); 0 elsewhere. chain[k] has TG_CHAIN_OF_INPUTS
     * too where each product and the first sum read an input: without an
     * int among the inputs, no slot of the chain can stand for an int. */
    uint16_t *chain;
    int grads_zero;            /* every operation's slot in grad holds 0 */
    /* the last forward (inner) set to 0 the gradient of every operation but
     * those inside chains, and no backward has run since */
    int grads_cleared;
    uint32_t *output_ops;      /* the operations that are outputs, each once */
    uint32_t noutput_ops;
    uint32_t ndeferred;        /* operations of the last forward with a TG_LOCAL_* error */
    tg_segment **segments;     /* the distinct segments of the recorded operations */
    uint32_t *first_index;     /* the index of the first and last of them in each */
    uint32_t *last_index;
    uint32_t nsegments;
    int counted;               /* its segments count it in tg_segment.recordings */
    /* where tg_program_consumed stopped: the node after the last it read, and
     * the tape's reclaims then (a collection since may have freed it) */
    tg_segment *scan_segment;
    uint32_t scan_next;
    size_t scan_reclaims;
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

/* How many live operation nodes in the program's recorded range, not of the
 * program, have a handle: a Value made in the recorded call off the outputs'
 * paths that the caller still holds (a replay would change its parents). */
size_t tg_program_side_handles(const tg_program *program);

/* Whether a node of the program, or an input, was given a Python _backward
 * since it was recorded (a replay would not call it). */
int tg_program_has_closure(const tg_program *program);

/* Recomputes every value, local derivative and flag from the inputs' data.
 * On an error (the status Python's float arithmetic would raise), *failed is
 * the operation that raised and nothing was written to the tape. inner 0
 * (for tg_program_step_sgd only): the slots inside neuron chains are left
 * as they were, as nothing but a write-back or a flush reads them. */
int tg_program_forward(tg_program *program, int inner, uint32_t *failed);

/* Writes the values, local derivatives and flags of the last forward into
 * the recorded nodes, with a zero gradient, as a fresh eager graph has. */
void tg_program_write_back(tg_program *program);

/* The lazy write-back, in two parts. tg_program_write_outputs writes what
 * tg_program_write_back would into the output nodes only, and zeroes the
 * gradients of the fresh leaves. tg_program_flush writes the other nodes:
 * grad is the flat gradients of the one tg_program_backward since the
 * forward (from root over ops, nreach of them, as it was given them), or
 * NULL for zero. A folded operation's node gets the grad micrograd's leaf
 * for its number would have: 0, or 0 + derivative x gradient if that
 * backward passed it (a second backward runs on the nodes: the eager sweep
 * adds to it, as micrograd's does). */
void tg_program_write_outputs(tg_program *program);
void tg_program_flush(tg_program *program, const double *grad, uint32_t root,
                      const uint32_t *ops, uint32_t nreach);

/* The number of operations whose node _prev unfolded into a plain + or *
 * onto a constant leaf: a program with one is written back eagerly. */
uint32_t tg_program_unfolded(const tg_program *program);

/* Adds delta to the pending count (tg_segment.replays) of each segment of
 * the recorded operations. */
void tg_program_mark_segments(tg_program *program, int delta);

/* Whether node lies among the recorded operations: in one of their
 * segments, between the first and the last of them there. */
int tg_program_in_range(const tg_program *program, const tg_node *node);

/* Whether an operation recorded after the program's last one has one of its
 * nodes for a parent: a Value built from an output (z = loss * 2), whose
 * graph a replay would change under it, even once the output's own handle is
 * gone. Reads each node once: it goes on from where the last call stopped,
 * unless tape has freed segments since. live_only (between a collection's
 * mark and its reclaim): from the program's end, only TG_LIVE operations. */
int tg_program_consumed(tg_program *program, const tg_tape *tape, int live_only);

/* The scan of tg_program_consumed goes on from the tape's end: every
 * operation so far was seen (a dead one stays dead). */
void tg_program_scanned(tg_program *program, const tg_tape *tape);

/* Which recorded ranges an eager sweep from root would reach: a walk over
 * the operations as tg_sweep_run takes them (newest first, marking parents),
 * that only reads the structure and leaves no mark behind. Range i is the
 * nodes first[i]..last[i] of segments[i] (a pending program's operations in
 * one segment); hit[i] is set to 1 for each range holding a node the walk
 * reaches. Needs the sweep's exclusive use of the mark bits, not the GIL (it
 * reads no pending count: another thread may change those meanwhile).
 * TG_ERR_NOMEM, with hit all 1: the caller then treats every range as reached. */
int tg_reach_ranges(const tg_node *root, tg_segment *const *segments, const uint32_t *first,
                    const uint32_t *last, uint32_t nranges, uint8_t *hit);

/* The operations the root slot depends on, newest first, into ops (room for
 * nops), *nreach of them. TG_ERR_NOMEM. */
int tg_program_reach(const tg_program *program, uint32_t root, uint32_t *ops, uint32_t *nreach);

/* Zeroes the flat gradients of the operations: a fresh graph's. */
void tg_program_clear_grads(tg_program *program);

/* backward() from the root slot over the flat arrays, after a forward, as
 * the engine's sweep runs it on the written-back nodes: the operations'
 * gradients start at 0 (cleared here, or by the forward), the root's is set
 * to 1, and each operation the root depends on (ops, nreach of them,
 * newest first; or with ops NULL, every operation up to the root) adds local
 * derivative x its gradient into its operands', newest first. The inputs'
 * and the outputs' gradients are read from their nodes and written back
 * (they are the nodes' own: the user may have set them), and so are the
 * folded outputs' constant grads; the other operations' stay in grad until
 * a flush, which expects one backward per forward (tg_program_flush).
 * Every input must be a leaf and no operation may have a deferred error
 * (ndeferred == 0): eager backward goes on past an operation input, and
 * raises at a deferred error. */
void tg_program_backward(tg_program *program, uint32_t root, const uint32_t *ops,
                         uint32_t nreach);

/* A fused training step after a forward: zero_grad of the n parameters,
 * the reverse sweep from the operation root over the flat gradients (the
 * inputs that are not parameters keep their gradient and add to it, as eager
 * backward does), then p.data -= lr[i] * p.grad. param_slot
 * is each parameter's input slot, or TG_NO_SLOT if the program does not use
 * it. A deferred derivative error leaves the tape untouched: *failed is its
 * operation. Writes no recorded node: a fused step returns numbers. */
int tg_program_step_sgd(tg_program *program, uint32_t root, tg_node *const *params,
                        const uint32_t *param_slot, const double *lr, uint32_t nparams,
                        uint32_t *failed);

#ifdef __cplusplus
}
#endif

#endif
