#!/usr/bin/env python3
"""PyTorch peer of the toolkit's GRU seq2seq model, for side-by-side benchmarks.

Usage:
  python3 bench/pytorch/seq2seq_bench.py --config '{"srcVocab":1000,"tgtVocab":1000,"emb":64,"hidden":128,
      "batch":64,"srcLen":20,"tgtLen":20,"attention":false}'
  extra flags: --threads N (default 2 = the machine's cores), --encoder cell|packed (default: cell),
               --no-blas-fix, --selftest (equivalence checks, no timing)

  The Multi30K config model on the toolkit's own batches (training only): --config '{"workload":"multi30k",
  "batches":FILE,...}', see multi30k.py.

Prints exactly one JSON line on stdout (all figures, torch version, threads, BLAS info); everything else goes to stderr.

Model (identical to the toolkit's, see README.md): Embedding -> 1-layer GRU encoder over the reversed, front-padded
source with padding masked (state carried unchanged, outputs zero at padding) -> GRU decoder seeded with the encoder's
final state, teacher forcing (GO+y in, y+EOS out) -> optional Luong dot attention (h~ = tanh(Wc[c; s]), Wc no bias)
-> Linear(hidden, tgtVocab). Loss: cross entropy averaged over real target tokens; Adam(lr=3e-3); clip global norm 5.

Data: random ids in [4, vocab) (0..3 = PAD GO EOS UNK), every sentence of full length srcLen / tgtLen (tgtLen counts
EOS). Batches are generated before timing; timing covers the model only.

Measured:
  train_tokens_per_s     median over `repeats` runs of `trainSteps` steps (after `warmupSteps` warm-up steps, and
                         at least `warmupSeconds` of them);
                         tokens = batch * tgtLen real target tokens per step.
  greedy_sentences_per_s median over `repeats` runs (after untimed runs for `warmupSeconds`, at least one, on both
                         sides), each decoding
                         `decodeBatches` batches of `batch` sentences, batched greedy, FIXED-LENGTH decode: EOS stop
                         disabled, always tgtLen steps (an untrained model on random data would otherwise stop at
                         arbitrary points).
  beam_sentences_per_s   the same with beam search (beam `beam`, batch*beam rows, score = sum log-prob, no length
                         normalisation), fixed-length as well (finished beams are still carried, never stop early).
  greedy_latency_ms      batch 1 greedy fixed-length decode of one sentence, median over max(10, 5*repeats) runs.
  peak_rss_mib           resource.getrusage(RUSAGE_SELF).ru_maxrss / 1024.

Defaults for keys missing from --config: trainSteps 10, warmupSteps 3, warmupSeconds 2, repeats 3, decodeBatches 5,
beam 5, seed 1234, attention false. With these, on the 2-core bookworm box (PyTorch 1.13, OpenBLAS), the small workload
(1000/1000/64/128, batch 64, 20/20) runs in ~10-20 s and the standard one (8000/8000/256/512) in ~60-90 s
including the torch import.

BLAS: Debian's torch uses the system libblas (OpenBLAS with libopenblas0-pthread). On VMs whose CPU model is masked
("Intel(R) Xeon(R) Processor") OpenBLAS's DYNAMIC_ARCH picks the SSE3 'Prescott' kernels (~3x slower sgemm). Unless
OPENBLAS_CORETYPE is already set or --no-blas-fix is given, the script detects that case (generic core while
/proc/cpuinfo has avx2+fma) and re-executes itself once with OPENBLAS_CORETYPE=Haswell. The JSON reports the core used.
Threads: OMP_WAIT_POLICY defaults to PASSIVE (unless set or --no-thread-fix): libgomp's spinning workers and
OpenBLAS's pthread pool otherwise oversubscribe the 2 cores and 2-thread training runs 5-20x slower.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PAD, GO, EOS, UNK = 0, 1, 2, 3
DEFAULTS = {"attention": False, "trainSteps": 10, "warmupSteps": 3, "warmupSeconds": 2, "repeats": 3,
            "decodeBatches": 5, "beam": 5, "seed": 1234}
REQUIRED = ["srcVocab", "tgtVocab", "emb", "hidden", "batch", "srcLen", "tgtLen"]
GENERIC_CORES = {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood",
                 "banias", "generic"}
SYSTEM_PYTHON = "/usr/bin/python3"
LENGTH_PENALTY = 0.6


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def import_torch():
    """Import torch; when missing, re-exec under Debian's /usr/bin/python3 or run install.sh first."""
    try:
        import torch  # noqa: F401
        return torch
    except ImportError:
        pass
    if os.environ.get("SEQ2SEQ_BENCH_REEXEC") == "torch":
        log("seq2seq_bench: torch still not importable after install/re-exec; giving up")
        sys.exit(2)

    def system_has_torch():
        return os.path.exists(SYSTEM_PYTHON) and subprocess.run(
            [SYSTEM_PYTHON, "-c", "import torch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    if not system_has_torch():
        log("seq2seq_bench: torch not found, running bench/pytorch/install.sh")
        rc = subprocess.run(["sh", os.path.join(HERE, "install.sh")], stdout=sys.stderr).returncode
        if rc != 0:
            log("seq2seq_bench: install.sh failed (exit %d)" % rc)
            sys.exit(2)
    target = SYSTEM_PYTHON if system_has_torch() else sys.executable
    os.environ["SEQ2SEQ_BENCH_REEXEC"] = "torch"
    log("seq2seq_bench: re-executing under %s (torch is installed for that interpreter)" % target)
    os.execv(target, [target] + sys.argv)


def openblas_info():
    """(corename, config) of the OpenBLAS mapped into this process, or (None, None)."""
    import ctypes
    path = None
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "libopenblas" in os.path.basename(p):
                    path = p
                    break
    except OSError:
        return None, None
    if path is None:
        return None, None
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode(), lib.openblas_get_config().decode()
    except (OSError, AttributeError):
        return None, path


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def maybe_fix_blas(no_fix):
    """Re-exec with OPENBLAS_CORETYPE=Haswell when OpenBLAS fell back to a generic core on an AVX2 CPU."""
    if no_fix or "OPENBLAS_CORETYPE" in os.environ:
        return
    core, _ = openblas_info()
    flags = cpu_flags()
    if core and core.lower() in GENERIC_CORES and {"avx2", "fma"} <= flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"
        log("seq2seq_bench: OpenBLAS detected core '%s' on an AVX2/FMA CPU; re-executing with "
            "OPENBLAS_CORETYPE=Haswell (use --no-blas-fix to keep '%s')" % (core, core))
        os.execv(sys.executable, [sys.executable] + sys.argv)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="JSON workload description")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: CPU count, 2 here)")
    ap.add_argument("--encoder", choices=["auto", "cell", "packed"], default="auto",
                    help="masked encoder implementation: GRUCell loop with h = m*h_new + (1-m)*h, "
                         "nn.GRU's fused op over a left-aligned pack_padded_sequence, or auto (default): the one "
                         "that trains faster here, timed in alternation during the warm-up")
    ap.add_argument("--no-blas-fix", action="store_true", help="do not force OPENBLAS_CORETYPE on generic detection")
    ap.add_argument("--no-thread-fix", action="store_true", help="do not default OMP_WAIT_POLICY to PASSIVE")
    ap.add_argument("--selftest", action="store_true", help="check encoder/decoder equivalences and exit")
    return ap.parse_args()


args = parse_args()
# Debian's torch runs element-wise ops on libgomp threads and GEMMs on OpenBLAS's own pthread pool. With both pools
# busy-waiting (libgomp's default ACTIVE policy), 2 + 2 spinning threads on 2 cores starve each other and training
# runs 5-20x slower. PASSIVE makes idle OpenMP threads sleep; it must be set before libgomp loads (import torch).
if not args.no_thread_fix:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
torch = import_torch()
maybe_fix_blas(args.no_blas_fix)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Seq2Seq(nn.Module):
    def __init__(self, cfg, encoder_impl="cell"):
        super().__init__()
        E, H = cfg["emb"], cfg["hidden"]
        self.H = H
        self.attention = bool(cfg["attention"])
        self.encoder_impl = encoder_impl
        self.src_emb = nn.Embedding(cfg["srcVocab"], E)
        self.tgt_emb = nn.Embedding(cfg["tgtVocab"], E)
        # nn.GRUCell for the masked time loop; the packed path runs the same weights through the fused GRU op.
        self.enc_cell = nn.GRUCell(E, H)
        self.dec = nn.GRU(E, H, num_layers=1, batch_first=False)
        self.Wc = nn.Linear(2 * H, H, bias=False) if self.attention else None
        self.out = nn.Linear(H, cfg["tgtVocab"])

    # ---- encoder -------------------------------------------------------------------------------------------------
    def encode(self, src, mask):
        """src: [Ts, B] reversed, front-padded ids (time-major); mask: [Ts, B] float, 1 real / 0 pad.
        Returns outputs [B, Ts, H] (zero at padding), final [B, H], mask_bias [B, 1, Ts] (0 / -1e9)."""
        x = self.src_emb(src)  # [Ts, B, E]
        if self.encoder_impl == "packed":
            outputs, final = self._encode_packed(x, mask)
        else:
            outputs, final = self._encode_cell(x, mask)
        mask_bias = ((1.0 - mask.t()) * -1e9).unsqueeze(1)  # [B, 1, Ts]
        return outputs, final, mask_bias

    def _encode_cell(self, x, mask):
        Ts, B, _ = x.shape
        h = x.new_zeros(B, self.H)
        outs = []
        for t in range(Ts):
            m = mask[t].unsqueeze(1)  # [B, 1]
            h_new = self.enc_cell(x[t], h)
            h = m * h_new + (1.0 - m) * h  # padding: state carried unchanged
            outs.append(m * h)  # padding: output zero
        return torch.stack(outs, 1), h  # [B, Ts, H], [B, H]

    def _encode_packed(self, x, mask):
        # Front padding: sequence b's real tokens occupy the last L_b steps. The masked loop carries the zero initial
        # state through the padding, so it equals a plain GRU over the real tokens only: left-align, pack, run, unpack,
        # and shift the outputs back to the front-padded layout (zeros at padding).
        Ts, B, E = x.shape
        lengths = mask.sum(0).long()  # [B]
        pad = Ts - lengths
        t_idx = torch.arange(Ts).unsqueeze(1)  # [Ts, 1]
        src_idx = (t_idx + pad.unsqueeze(0)).clamp(max=Ts - 1)  # left-align: new t reads old t + pad
        xl = x.gather(0, src_idx.unsqueeze(2).expand(Ts, B, E))
        packed = nn.utils.rnn.pack_padded_sequence(xl, lengths.cpu(), enforce_sorted=False)
        c = self.enc_cell
        out, hn = torch._VF.gru(packed.data, packed.batch_sizes, x.new_zeros(1, B, self.H),
                                [c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh], True, 1, 0.0, self.training,
                                False)
        out = nn.utils.rnn.PackedSequence(out, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=Ts)  # [Ts, B, H], zeros after L_b
        back_idx = (t_idx - pad.unsqueeze(0)).clamp(min=0)  # front-pad: new t reads old t - pad
        out = out.gather(0, back_idx.unsqueeze(2).expand(Ts, B, self.H)) * mask.unsqueeze(2)
        return out.transpose(0, 1), hn[0].index_select(0, packed.unsorted_indices)  # hn is in sorted order

    # ---- decoder -------------------------------------------------------------------------------------------------
    def project(self, states, enc_out, mask_bias):
        """states [B, T, H] -> logits [B, T, V]."""
        if self.attention:
            scores = torch.bmm(states, enc_out.transpose(1, 2)) + mask_bias  # [B, T, Ts]
            weights = torch.softmax(scores, dim=2)
            context = torch.bmm(weights, enc_out)  # [B, T, H]
            states = torch.tanh(self.Wc(torch.cat([context, states], 2)))
        return self.out(states)

    def forward(self, src, mask, tgt_in):
        """Teacher forcing. tgt_in: [Tt, B] (GO y). Returns logits [B, Tt, V]."""
        enc_out, final, mask_bias = self.encode(src, mask)
        states, _ = self.dec(self.tgt_emb(tgt_in), final.unsqueeze(0))  # [Tt, B, H]
        return self.project(states.transpose(0, 1), enc_out, mask_bias)

    def dec_step(self, tok, h, enc_out, mask_bias):
        """tok [N], h [N, H] -> logits [N, V], h' [N, H] (same weights as self.dec)."""
        d = self.dec
        h = torch.gru_cell(self.tgt_emb(tok), h, d.weight_ih_l0, d.weight_hh_l0, d.bias_ih_l0, d.bias_hh_l0)
        return self.project(h.unsqueeze(1), enc_out, mask_bias).squeeze(1), h

    @torch.no_grad()
    def greedy(self, src, mask, max_len, stop_at_eos=True):
        enc_out, h, mask_bias = self.encode(src, mask)
        B = h.shape[0]
        tok = torch.full((B,), GO, dtype=torch.long)
        finished = torch.zeros(B, dtype=torch.bool)
        out = []
        for _ in range(max_len):
            logits, h = self.dec_step(tok, h, enc_out, mask_bias)
            tok = logits.argmax(1).masked_fill(finished, PAD)
            out.append(tok)
            finished |= tok == EOS
            if stop_at_eos and bool(finished.all()):
                break
        return torch.stack(out, 1)  # [B, steps]; PAD after EOS

    @torch.no_grad()
    def beam_search(self, src, mask, max_len, K, stop_at_eos=True, alpha=0.0):
        enc_out, h, mask_bias = self.encode(src, mask)
        B, H = h.shape
        V = self.out.out_features
        N = B * K
        enc_out = enc_out.repeat_interleave(K, 0)  # row b*K + k
        mask_bias = mask_bias.repeat_interleave(K, 0)
        h = h.repeat_interleave(K, 0)
        scores = torch.full((B, K), float("-inf"))
        scores[:, 0] = 0.0  # only beam 0 is live at the start (all beams are identical)
        tok = torch.full((N,), GO, dtype=torch.long)
        finished = torch.zeros(N, dtype=torch.bool)
        seqs = torch.zeros(N, 0, dtype=torch.long)
        base = (torch.arange(B) * K).unsqueeze(1)  # [B, 1]
        finished_row = torch.full((V,), float("-inf"))
        finished_row[PAD] = 0.0  # a finished beam extends only with PAD, at no cost
        for _ in range(max_len):
            logits, h = self.dec_step(tok, h, enc_out, mask_bias)
            logp = torch.log_softmax(logits, 1)
            logp = torch.where(finished.unsqueeze(1), finished_row, logp)
            total = (scores.unsqueeze(2) + logp.view(B, K, V)).view(B, K * V)
            scores, idx = total.topk(K, dim=1)  # [B, K]
            beam = torch.div(idx, V, rounding_mode="floor")
            tok = (idx % V).view(N)
            rows = (base + beam).view(N)
            h = h.index_select(0, rows)
            seqs = torch.cat([seqs.index_select(0, rows), tok.unsqueeze(1)], 1)
            finished = finished.index_select(0, rows) | (tok == EOS)
            if stop_at_eos and bool(finished.all()):
                break
        if alpha > 0:
            # GNMT length penalty (Wu et al. 2016): score / ((5 + |y|) / 6)^alpha, |y| counting up to the first EOS.
            length = (seqs.view(B, K, -1) != PAD).sum(2).float()
            best = (scores / ((5.0 + length) / 6.0) ** alpha).argmax(1)
        else:
            best = scores.argmax(1)  # sum of log-probs, no length normalisation
        return seqs.view(B, K, -1)[torch.arange(B), best], scores.gather(1, best.unsqueeze(1)).squeeze(1)


# ---- data ----------------------------------------------------------------------------------------------------------
def make_batch(cfg, g, batch=None):
    B = batch or cfg["batch"]
    Ts, Tt = cfg["srcLen"], cfg["tgtLen"]
    src = torch.randint(4, cfg["srcVocab"], (B, Ts), generator=g)  # full length sentences
    lengths = torch.full((B,), Ts, dtype=torch.long)
    # reverse each sentence, then front-pad to Ts (no-op padding at full length, but the path is the general one)
    rev = torch.full((B, Ts), PAD, dtype=torch.long)
    mask = torch.zeros(B, Ts)
    for b in range(B):
        L = int(lengths[b])
        rev[b, Ts - L:] = src[b, :L].flip(0)
        mask[b, Ts - L:] = 1.0
    y = torch.randint(4, cfg["tgtVocab"], (B, Tt - 1), generator=g)  # tgtLen counts EOS
    tgt_in = torch.cat([torch.full((B, 1), GO, dtype=torch.long), y], 1)
    tgt_out = torch.cat([y, torch.full((B, 1), EOS, dtype=torch.long)], 1)
    tgt_mask = (tgt_out != PAD).float()
    return {"src": rev.t().contiguous(), "mask": mask.t().contiguous(), "tgt_in": tgt_in.t().contiguous(),
            "tgt_out": tgt_out, "tgt_mask": tgt_mask}


def train_step(model, opt, params, b):
    logits = model(b["src"], b["mask"], b["tgt_in"])  # [B, Tt, V]
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b["tgt_out"].reshape(-1), reduction="none")
    m = b["tgt_mask"].reshape(-1)
    loss = (ce * m).sum() / m.sum()  # mean over real target tokens
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(params, 5.0)
    opt.step()
    return loss


def blas_report():
    core, conf = openblas_info()
    cfg_show = torch.__config__.show()
    blas_info = next((p.split("=", 1)[1] for p in cfg_show.replace(",", "\n").split("\n")
                      if p.strip().startswith("BLAS_INFO=")), None)
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    reps = 10
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    dt = (time.perf_counter() - t0) / reps
    return {"torch_blas_info": blas_info, "openblas_core": core, "openblas_config": conf,
            "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "matmul1024_gflops": round(2 * n ** 3 / dt / 1e9, 1)}


def selftest(cfg):
    torch.manual_seed(0)
    ok = True
    c = dict(cfg, srcLen=7, tgtLen=6, batch=5, attention=True, srcVocab=50, tgtVocab=40, emb=8, hidden=16)
    m = Seq2Seq(c, "cell")
    src = torch.randint(4, 50, (7, 5))
    lengths = torch.tensor([7, 3, 5, 1, 6])
    mask = (torch.arange(7).unsqueeze(1) >= (7 - lengths).unsqueeze(0)).float()  # front padding
    src = src.masked_fill(mask == 0, PAD)
    o1, f1, _ = m.encode(src, mask)
    m.encoder_impl = "packed"
    o2, f2, _ = m.encode(src, mask)
    d = max((o1 - o2).abs().max().item(), (f1 - f2).abs().max().item())
    # plain GRU over the real tokens only, per sentence
    ref = []
    for b in range(5):
        L = int(lengths[b])
        _, hb = torch._VF.gru(m.src_emb(src[7 - L:, b:b + 1]), torch.zeros(1, 1, 16),
                              [m.enc_cell.weight_ih, m.enc_cell.weight_hh, m.enc_cell.bias_ih, m.enc_cell.bias_hh],
                              True, 1, 0.0, False, False, False)
        ref.append(hb[0, 0])
    d_ref = (torch.stack(ref) - f1).abs().max().item()
    zero_pad = o1[mask.t() == 0].abs().max().item()
    log("selftest: cell vs packed max|diff| %.2e, vs per-sentence GRU %.2e, |outputs at pad| %.1e" % (d, d_ref, zero_pad))
    ok &= d < 1e-5 and d_ref < 1e-5 and zero_pad == 0.0
    # teacher-forced logits == step-by-step decoder logits on the same inputs
    m.encoder_impl = "cell"
    m.eval()
    tgt_in = torch.randint(4, 40, (6, 5))
    with torch.no_grad():
        full = m(src, mask, tgt_in)
        enc_out, h, mb = m.encode(src, mask)
        steps = []
        for t in range(6):
            lg, h = m.dec_step(tgt_in[t], h, enc_out, mb)
            steps.append(lg)
    d_dec = (torch.stack(steps, 1) - full).abs().max().item()
    log("selftest: teacher-forced vs step decoder max|diff| %.2e" % d_dec)
    ok &= d_dec < 1e-5
    # beam 1 == greedy (with EOS stop), and beam K score >= greedy score
    g = m.greedy(src, mask, 6)
    b1, _ = m.beam_search(src, mask, 6, 1)
    same = torch.equal(g, b1[:, :g.shape[1]]) and (b1.shape[1] == g.shape[1] or bool((b1[:, g.shape[1]:] == PAD).all()))
    bk, sk = m.beam_search(src, mask, 6, 5)
    enc_out, h, mb = m.encode(src, mask)
    # score of the greedy sequence
    tok = torch.full((5,), GO, dtype=torch.long)
    gs = torch.zeros(5)
    done = torch.zeros(5, dtype=torch.bool)
    with torch.no_grad():
        for t in range(g.shape[1]):
            lg, h = m.dec_step(tok, h, enc_out, mb)
            lp = torch.log_softmax(lg, 1).gather(1, g[:, t:t + 1]).squeeze(1)
            gs += torch.where(done, torch.zeros(5), lp)
            done |= g[:, t] == EOS
            tok = g[:, t]
    log("selftest: beam1 == greedy: %s; beam5 score >= greedy score: %s" % (same, bool((sk >= gs - 1e-4).all())))
    ok &= same and bool((sk >= gs - 1e-4).all())
    log("selftest:", "PASS" if ok else "FAIL")
    return ok


def cpu_jiffies():
    """(busy jiffies of the whole machine, jiffies of this process) from /proc, or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = sum(v[:8]) - v[3] - v[4]  # all but idle and iowait
        with open("/proc/self/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        return busy, int(st[11]) + int(st[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return None


def machine_load(j_start, t_start):
    """Other processes' CPU use during the run (in cores): a busy machine ruins multi-threaded timings (a descheduled
    OpenMP thread stalls every parallel region), so the harness can discard or flag such runs."""
    j_end, wall = cpu_jiffies(), time.perf_counter() - t_start
    other = None
    if j_start and j_end:
        hz = os.sysconf("SC_CLK_TCK")
        other = round(max(0.0, ((j_end[0] - j_start[0]) - (j_end[1] - j_start[1])) / hz / wall), 2)
        if other > 0.25:
            log("seq2seq_bench: WARNING other processes used %.2f cores during the run; timings are not clean" % other)
    return {"other_cpu_load_cores": other, "loadavg_1min_end": round(os.getloadavg()[0], 2)}


def main():
    t_start = time.perf_counter()
    j_start = cpu_jiffies()
    given = json.loads(args.config)
    threads = args.threads or os.cpu_count() or 2
    torch.set_num_threads(threads)
    if given.get("workload") == "multi30k":
        sys.dont_write_bytecode = True  # no __pycache__ left in the repository
        import multi30k  # the Multi30K config model on the toolkit's batches (multi30k.py), training only
        blas = {} if args.selftest else blas_report()
        info = {"python": sys.version.split()[0], **blas}
        multi30k.main(given, args.encoder, args.selftest, lambda: {**info, **machine_load(j_start, t_start)})
        return
    cfg = dict(DEFAULTS)
    cfg.update(given)
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        log("seq2seq_bench: --config lacks %s" % ", ".join(missing))
        sys.exit(2)
    if args.selftest:
        sys.exit(0 if selftest(cfg) else 1)

    torch.manual_seed(cfg["seed"])
    g = torch.Generator().manual_seed(cfg["seed"])
    model = Seq2Seq(cfg, "cell" if args.encoder == "auto" else args.encoder)
    params = [p for p in model.parameters()]
    opt = torch.optim.Adam(params, lr=3e-3)
    R = max(1, int(cfg["repeats"]))
    B, Tt = cfg["batch"], cfg["tgtLen"]
    blas = blas_report()

    # training: distinct pre-generated batches, cycled
    n_batches = min(16, max(1, cfg["trainSteps"] + cfg["warmupSteps"]))
    batches = [make_batch(cfg, g) for _ in range(n_batches)]
    model.train()
    i = 0
    loss = None
    warm_start = time.perf_counter()
    while i < cfg["warmupSteps"] or time.perf_counter() - warm_start < cfg["warmupSeconds"]:
        loss = train_step(model, opt, params, batches[i % n_batches])
        i += 1
    encoder_times = {}
    if args.encoder == "auto":
        # The peer in its fastest form: both encoders, 3 alternating rounds of 2 steps each, the faster one kept.
        for _ in range(3):
            for impl in ("cell", "packed"):
                model.encoder_impl = impl
                t0 = time.perf_counter()
                for _ in range(2):
                    loss = train_step(model, opt, params, batches[i % n_batches])
                    i += 1
                encoder_times.setdefault(impl, []).append(time.perf_counter() - t0)
        model.encoder_impl = min(encoder_times, key=lambda k: statistics.median(encoder_times[k]))
        log("encoder: %s (median s per 2 steps: %s)" % (model.encoder_impl, ", ".join(
            "%s %.3f" % (k, statistics.median(v)) for k, v in encoder_times.items())))
    train_runs = []
    for r in range(R):
        t0 = time.perf_counter()
        for _ in range(cfg["trainSteps"]):
            loss = train_step(model, opt, params, batches[i % n_batches])
            i += 1
        last = float(loss)  # (CPU: already computed)
        dt = time.perf_counter() - t0
        train_runs.append(B * Tt * cfg["trainSteps"] / dt)
        log("train run %d: %.1f tgt tokens/s (loss %.3f)" % (r + 1, train_runs[-1], last))

    # decoding (fixed length: EOS stop disabled, always tgtLen steps)
    model.eval()
    dec_batches = [make_batch(cfg, g) for _ in range(max(1, cfg["decodeBatches"]))]

    def time_decode(fn):
        warm_start = time.perf_counter()
        while True:  # untimed rounds for warmupSeconds (at least one), as the toolkit's side
            for b in dec_batches:
                fn(b)
            if time.perf_counter() - warm_start >= cfg["warmupSeconds"]:
                break
        runs = []
        for _ in range(R):
            t0 = time.perf_counter()
            for b in dec_batches:
                fn(b)
            runs.append(len(dec_batches) * B / (time.perf_counter() - t0))
        return runs

    greedy_runs = time_decode(lambda b: model.greedy(b["src"], b["mask"], Tt, stop_at_eos=False))
    log("greedy runs (sentences/s): %s" % ", ".join("%.1f" % x for x in greedy_runs))
    beam_runs = []
    if cfg["beam"] and cfg["beam"] > 0:
        beam_runs = time_decode(lambda b: model.beam_search(b["src"], b["mask"], Tt, int(cfg["beam"]),
                                                            stop_at_eos=False))
        log("beam-%d runs (sentences/s): %s" % (cfg["beam"], ", ".join("%.1f" % x for x in beam_runs)))
    # What the toolkit's `translate` runs by default: beam 5 with length penalty 0.6, at batch 64 and for one sentence.
    beam_lp_runs, beam_lp_lat = [], []
    if cfg["beam"] and cfg["beam"] > 0:
        beam_lp_runs = time_decode(lambda b: model.beam_search(b["src"], b["mask"], Tt, int(cfg["beam"]),
                                                               stop_at_eos=False, alpha=LENGTH_PENALTY))
        one = make_batch(cfg, g, batch=1)
        for _ in range(max(5, 2 * R)):
            t0 = time.perf_counter()
            model.beam_search(one["src"], one["mask"], Tt, int(cfg["beam"]), stop_at_eos=False, alpha=LENGTH_PENALTY)
            beam_lp_lat.append((time.perf_counter() - t0) * 1000)

    singles = [make_batch(cfg, g, batch=1) for _ in range(max(10, 5 * R))]
    model.greedy(singles[0]["src"], singles[0]["mask"], Tt, stop_at_eos=False)
    lat = []
    for b in singles:
        t0 = time.perf_counter()
        model.greedy(b["src"], b["mask"], Tt, stop_at_eos=False)
        lat.append((time.perf_counter() - t0) * 1000)

    load = machine_load(j_start, t_start)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {
        "engine": "pytorch",
        "torch_version": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        **blas,
        "config": cfg,
        "encoder_impl": model.encoder_impl,
        "encoder_auto_s_per_2_steps": {k: round(statistics.median(v), 4) for k, v in encoder_times.items()},
        "decode_mode": "fixed-length",
        "train_tokens_per_s": round(statistics.median(train_runs), 1),
        "train_tokens_per_s_runs": [round(x, 1) for x in train_runs],
        "train_final_loss": round(last, 4),
        "greedy_sentences_per_s": round(statistics.median(greedy_runs), 1),
        "greedy_sentences_per_s_runs": [round(x, 1) for x in greedy_runs],
        "beam_size": int(cfg["beam"] or 0),
        "beam_sentences_per_s": round(statistics.median(beam_runs), 1) if beam_runs else None,
        "beam_sentences_per_s_runs": [round(x, 1) for x in beam_runs],
        "greedy_latency_ms": round(statistics.median(lat), 3),
        "beam_lp_sentences_per_s": round(statistics.median(beam_lp_runs), 1) if beam_lp_runs else None,
        "beam_lp_latency_ms": round(statistics.median(beam_lp_lat), 3) if beam_lp_lat else None,
        "peak_rss_mib": round(rss_kib / 1024, 1),
        "wall_s": round(time.perf_counter() - t_start, 2),
        **load,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
