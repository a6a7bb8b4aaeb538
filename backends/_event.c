/* The event-driven step kernel of spikec's simulator (spikec/backends/event.py builds and loads it).
 *
 * spikec_event_trial advances one trial from step t0 to t1 with the four phases of
 * docs/semantics.md, touching at step t only the neurons that can change:
 *
 *   - the active list: neurons whose last update left them off a quiet fixed point (see below);
 *   - the pending list of slot t mod L: neurons with a synaptic contribution arriving at t;
 *   - the always list: neurons given a current or whose potential is recorded.
 *
 * A neuron is quiet when, with nothing but its bias arriving, the next step would neither fire
 * nor change its potential: y = v + bias < threshold and y * keep == v bit for bit. A quiet
 * neuron left alone is then exactly what the full update would give, at every later step
 * until something arrives for it (which puts it on a pending list); its potential is not
 * recorded (recorded ones are always touched), and a stochastic neuron below threshold draws
 * nothing. Each touched neuron computes exactly what spikec_run_trial (_native.c) computes:
 * x = v + ring cell (bias pre-loaded, contributions added in delivery order), + current.
 *
 * Delivery order is the other engines': the neurons that fired at t (inputs included) are
 * sorted ascending and deliver in that order, each in synapse (CSR) order; steps run in order.
 * So every ring cell receives its additions in the same order and the file is compiled without
 * floating-point contraction: the potentials are bit-identical.
 *
 * State kept between calls (per trial): active[0..*n_active) (neurons to touch at the next
 * step), pend (L * N bytes, 1 where a ring cell holds contributions and its neuron is queued), plist (slot s's pending
 * neurons at plist[s * N ..], pcount[s] of them), stamp (N, last step a neuron was queued).
 * Scratch: touch (N), fired (N). Layouts of the other arrays are those of _native.c.
 * Returns the synaptic events delivered; *touched accumulates the neurons touched.
 */
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

static const u128 PCG_MULT = ((u128)0x2360ED051FC65DA4ULL << 64) | 0x4385DF649FCCF645ULL;

static u128 join128(const uint64_t *hi_lo) { return ((u128)hi_lo[0] << 64) | hi_lo[1]; }

/* table[4 k .. 4 k + 3] = A_k (hi, lo), G_k (hi, lo) for k = 0..s; returns s */
int64_t spikec_pcg_jumps(int64_t s, uint64_t *table)
{
    u128 a = 1, g = 0;
    for (int64_t k = 0; k <= s; k++) {
        table[4 * k] = (uint64_t)(a >> 64);
        table[4 * k + 1] = (uint64_t)a;
        table[4 * k + 2] = (uint64_t)(g >> 64);
        table[4 * k + 3] = (uint64_t)g;
        g = g * PCG_MULT + 1;
        a = a * PCG_MULT;
    }
    return s;
}

static double pcg_uniform(u128 state)
{
    const uint64_t hi = (uint64_t)(state >> 64), x = hi ^ (uint64_t)state;
    const unsigned r = (unsigned)(hi >> 58);
    const uint64_t out = (x >> r) | (x << ((64 - r) & 63));
    return (double)(out >> 11) * (1.0 / 9007199254740992.0);
}

static void sort_i32(int32_t *a, int64_t n, int32_t *tmp)
{
    /* insertion sort for short lists, else LSD radix sort on 8-bit digits (indices >= 0) */
    if (n < 32) {
        for (int64_t i = 1; i < n; i++) {
            int32_t x = a[i];
            int64_t j = i - 1;
            while (j >= 0 && a[j] > x) {
                a[j + 1] = a[j];
                j--;
            }
            a[j + 1] = x;
        }
        return;
    }
    int32_t top = 0;
    for (int64_t i = 0; i < n; i++) top = a[i] > top ? a[i] : top;
    int64_t count[256 + 1];
    for (int shift = 0; shift < 32 && (top >> shift) > 0; shift += 8) {
        memset(count, 0, sizeof(count));
        for (int64_t i = 0; i < n; i++) count[((uint32_t)a[i] >> shift & 0xFF) + 1]++;
        for (int64_t k = 0; k < 256; k++) count[k + 1] += count[k];
        for (int64_t i = 0; i < n; i++) tmp[count[(uint32_t)a[i] >> shift & 0xFF]++] = a[i];
        memcpy(a, tmp, (size_t)n * sizeof(int32_t));
    }
}

/* x / n for 0 <= x < 2^52 without a division: the float estimate is off by at most one */
static inline int64_t div_n(int64_t x, int64_t n, double inv_n)
{
    int64_t q = (int64_t)((double)x * inv_n);
    q -= q * n > x;
    q += (q + 1) * n <= x;
    return q;
}

static int same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

int64_t spikec_event_trial(
    int64_t t0, int64_t t1, int64_t b, int64_t trials, int64_t n, int64_t ring_len, int64_t steps,
    double *v, double *ring, const double *bias, const double *thr, const double *keep,
    const double *reset, const double *p,
    const int64_t *in_ptr, const int32_t *in_col,
    const int64_t *stoch_pos, const uint64_t *rng, const uint64_t *jumps, int64_t n_stoch,
    const int64_t *cur_pos, const double *cur, int64_t k_cur,
    const int64_t *rec_pos, uint8_t *spikes_out,
    const int64_t *pot_pos, double *pots_out,
    const int64_t *indptr, const int32_t *offset32, const int64_t *offset64, const double *weight,
    const int32_t *inputs, const int32_t *always, int64_t n_always,
    int32_t *active, int64_t *n_active, uint8_t *pend, int32_t *plist, int64_t *pcount,
    int64_t *stamp, int32_t *touch, int32_t *fired, int32_t *scratch, int64_t *touched)
{
    const int64_t span = ring_len * n;
    const double inv_n = 1.0 / (double)n;
    int64_t delivered = 0, touched_here = 0;
    /* rng: this trial's PCG64 state and increment (hi, lo each) at step t0's row */
    const u128 inc = join128(rng + 4 * b + 2);
    const u128 row_a = join128(jumps + 4 * n_stoch), row_c = join128(jumps + 4 * n_stoch + 2) * inc;
    u128 row_state = join128(rng + 4 * b);
    for (int64_t t = t0; t < t1; t++) {
        const int64_t slot = t % ring_len;
        const int64_t base = slot * n;
        const int64_t row = t - t0;
        int64_t nt = 0, nf = 0, na = *n_active;
        /* gather the neurons to touch, each once */
        for (int64_t a = 0; a < na; a++) {
            const int32_t i = active[a];
            stamp[i] = t;
            touch[nt++] = i;
        }
        int32_t *pl = plist + base;
        for (int64_t a = 0, m = pcount[slot]; a < m; a++) {
            const int32_t i = pl[a];
            if (stamp[i] != t) {
                stamp[i] = t;
                touch[nt++] = i;
            }
        }
        pcount[slot] = 0;
        for (int64_t a = 0; a < n_always; a++) {
            const int32_t i = always[a];
            if (stamp[i] != t) {
                stamp[i] = t;
                touch[nt++] = i;
            }
        }
        touched_here += nt;
        /* inputs spike as their events say */
        for (int64_t k = in_ptr[row * trials + b], m = in_ptr[row * trials + b + 1]; k < m; k++)
            fired[nf++] = inputs[in_col[k]];
        /* 1-3. integrate, fire, reset/leak; keep the neurons that are not quiet */
        na = 0;
        for (int64_t a = 0; a < nt; a++) {
            const int32_t i = touch[a];
            const int64_t cell = base + i;
            double c = bias[i];
            if (pend[cell]) {
                c = ring[cell];
                pend[cell] = 0;
            }
            double x = v[i] + c;
            const int64_t cp = cur_pos[i];
            if (cp >= 0) x += cur[(t * trials + b) * k_cur + cp];
            const int64_t pp = pot_pos[i];
            if (pp >= 0) pots_out[(pp * trials + b) * steps + t] = x;
            int spike = x >= thr[i];
            const int64_t sp = stoch_pos[i];
            if (spike && sp >= 0) {
                const u128 st = join128(jumps + 4 * (sp + 1)) * row_state + join128(jumps + 4 * (sp + 1) + 2) * inc;
                spike = pcg_uniform(st) < p[i];
            }
            const double vn = spike ? reset[i] : x * keep[i];
            v[i] = vn;
            if (spike) fired[nf++] = i;
            const double y = vn + bias[i];
            if (y >= thr[i] || !same_bits(y * keep[i], vn)) active[na++] = i;
        }
        *n_active = na;
        row_state = row_a * row_state + row_c;
        if (!nf) continue;
        /* 4. deliver in ascending neuron order to slot (t + d) mod L, queueing new cells */
        sort_i32(fired, nf, scratch);
        for (int64_t a = 0; a < nf; a++) {
            const int32_t i = fired[a];
            const int64_t rp = rec_pos[i];
            if (rp >= 0) spikes_out[(rp * trials + b) * steps + t] = 1;
            const int64_t lo = indptr[i], hi = indptr[i + 1];
            delivered += hi - lo;
            for (int64_t e = lo; e < hi; e++) {
                int64_t target = base + (offset32 ? (int64_t)offset32[e] : offset64[e]);
                target -= span * (target >= span);
                if (pend[target]) {
                    ring[target] += weight[e];
                } else {
                    pend[target] = 1;
                    const int64_t s = div_n(target, n, inv_n);
                    const int32_t post = (int32_t)(target - s * n);
                    ring[target] = bias[post] + weight[e];
                    plist[s * n + pcount[s]++] = post;
                }
            }
        }
    }
    *touched += touched_here;
    return delivered;
}
