/* The native step kernel of spikec's simulator (spikec/backends/native.py builds and loads it).
 *
 * spikec_run_trial advances one trial from step t0 to t1 with the four phases of
 * docs/semantics.md, exactly as the numba kernel (spikec/backends/_kernel.py) does: one pass
 * over the neurons per step does integrate, fire, reset/leak and deliver for neuron i before
 * neuron i + 1, which is the synchronous update because every delay is >= 1 (a spike never
 * lands in the slot being consumed). Contributions reach each ring cell in the same order as
 * in the other engines (ascending presynaptic neuron, then synapse order), and the file is
 * compiled without floating-point contraction, so all engines agree bit for bit.
 *
 * Layouts (C order): v and ring are this trial's rows (N and L * N doubles, cell slot * N + i,
 * bias pre-loaded); raster (t1 - t0, B, K_in) bytes (this block's rows); cur (T, B, K_cur); draws (rows, B, S);
 * spikes_out (R, B, T) bytes; pots_out (P, B, T). Returns the synaptic events delivered.
 */
#include <stdint.h>

int64_t spikec_run_trial(
    int64_t t0, int64_t t1, int64_t b, int64_t trials, int64_t n, int64_t ring_len, int64_t steps,
    double *v, double *ring, const double *bias, const double *thr, const double *keep,
    const double *reset, const double *p,
    const int64_t *input_pos, const uint8_t *raster, int64_t k_in,
    const int64_t *stoch_pos, const double *draws, int64_t n_stoch,
    const int64_t *cur_pos, const double *cur, int64_t k_cur,
    const int64_t *rec_pos, uint8_t *spikes_out,
    const int64_t *pot_pos, double *pots_out,
    const int64_t *indptr, const int32_t *offset32, const int64_t *offset64, const double *weight)
{
    const int64_t span = ring_len * n;
    int64_t delivered = 0;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t base = (t % ring_len) * n;
        const int64_t row = t - t0;
        for (int64_t i = 0; i < n; i++) {
            int spike;
            const int64_t ip = input_pos[i];
            if (ip >= 0) {
                spike = raster[(row * trials + b) * k_in + ip] != 0;
            } else {
                /* 1. integrate */
                const int64_t cell = base + i;
                double x = v[i] + ring[cell];
                ring[cell] = bias[i];
                const int64_t cp = cur_pos[i];
                if (cp >= 0) x += cur[(t * trials + b) * k_cur + cp];
                const int64_t pp = pot_pos[i];
                if (pp >= 0) pots_out[(pp * trials + b) * steps + t] = x;
                /* 2. fire */
                spike = x >= thr[i];
                const int64_t sp = stoch_pos[i];
                if (spike && sp >= 0) spike = draws[(row * trials + b) * n_stoch + sp] < p[i];
                /* 3. reset / leak */
                v[i] = spike ? reset[i] : x * keep[i];
            }
            if (!spike) continue;
            const int64_t rp = rec_pos[i];
            if (rp >= 0) spikes_out[(rp * trials + b) * steps + t] = 1;
            /* 4. deliver to slot (t + d) mod L: cell base + d * N + post, wrapped once */
            const int64_t lo = indptr[i], hi = indptr[i + 1];
            delivered += hi - lo;
            if (offset32) {
                for (int64_t e = lo; e < hi; e++) {
                    int64_t target = base + offset32[e];
                    target -= span * (target >= span);
                    ring[target] += weight[e];
                }
            } else {
                for (int64_t e = lo; e < hi; e++) {
                    int64_t target = base + offset64[e];
                    target -= span * (target >= span);
                    ring[target] += weight[e];
                }
            }
        }
    }
    return delivered;
}
