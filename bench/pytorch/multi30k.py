"""PyTorch peer of the toolkit's Multi30K config model (corpora/configs/multi30k-de-en.json), training only.

Run through seq2seq_bench.py (which sets up threads and BLAS first):
  python3 bench/pytorch/seq2seq_bench.py --config '{"workload":"multi30k","batches":FILE,"warmupSteps":4,
      "trainSteps":24,"repeats":4}'  [--encoder auto|cell|packed] [--selftest]

FILE is what `bench/multi30k.ts --prepare` writes: the toolkit's resolved config and the first batches its data
pipeline draws, time-major as the toolkit lays them out (sources reversed and front-padded to their bucket). Both
sides train on the same batches: warm-up on the first warmupSteps, then `repeats` timed runs over the next trainSteps.

The model (README.md, "The Multi30K model"): embeddings -> input dropout -> bidirectional GRU encoder (hidden/2 per
direction, each sentence read within its own length) -> output dropout; final states [fwd | bwd] copied to the
decoder's initial state; GRU decoder over the target embeddings (input dropout) -> output dropout -> Luong dot
attention, h~ = tanh(Wc [c; s]) -> sampled softmax (log-uniform candidates shared by the batch, unique, accidental
hits removed, logits less log Q). Adam, global-norm clipping.
"""
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD = 0
HIT_LOGIT = -1e9  # the toolkit's: an accidental hit's softmax weight becomes 0


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- sampled softmax ---------------------------------------------------------------------------------------------
class LogUniformSampler:
    """TensorFlow's log_uniform_candidate_sampler with unique=True, as src/loss/candidateSampler.ts: P(k) =
    (log(k+2) - log(k+1)) / log(V+1) over ids 0..V-1 (reserved ids included), drawn until numSampled distinct ids;
    expected counts 1 - (1 - P)^tries (p * numSampled when no draw was repeated)."""

    def __init__(self, vocab, num_sampled, generator):
        self.V, self.m, self.g = vocab, num_sampled, generator
        self.log_range = math.log(vocab + 1)
        k = torch.arange(vocab, dtype=torch.float64)
        self.p = (torch.log(k + 2) - torch.log(k + 1)) / self.log_range  # [V]

    def draw(self):
        seen, order, tries = set(), [], 0
        while len(order) < self.m:
            # Draws in chunks, consumed one by one, so that `tries` counts the draws up to the last new id exactly.
            u = torch.rand(2 * (self.m - len(order)), generator=self.g, dtype=torch.float64)
            for k in ((torch.exp(u * self.log_range)).floor_().sub_(1).clamp_(max=self.V - 1)).long().tolist():
                tries += 1
                if k not in seen:
                    seen.add(k)
                    order.append(k)
                    if len(order) == self.m:
                        break
        return torch.tensor(order), tries

    def expected_count(self, ids, tries):
        p = self.p[ids]
        q = p * self.m if tries == self.m else -torch.expm1(tries * torch.log1p(-p))
        return q.float()


def sampled_softmax_loss(h, W, b, targets, sampler):
    """h [N, H] (real target positions only), W [V, H], b [V], targets [N] -> mean sampled-softmax loss."""
    sampled, tries = sampler.draw()
    N = h.shape[0]
    ids = torch.cat([targets, sampled])
    w = W.index_select(0, ids)  # [N+m, H]: only these rows of W get gradient
    bias = b.index_select(0, ids)
    logq = torch.log(sampler.expected_count(ids, tries))
    true_logit = (h * w[:N]).sum(1, keepdim=True) + (bias[:N] - logq[:N]).unsqueeze(1)  # [N, 1]
    sampled_logits = torch.addmm(bias[N:] - logq[N:], h, w[N:].t())  # [N, m]
    sampled_logits = sampled_logits.masked_fill(targets.unsqueeze(1) == sampled.unsqueeze(0), HIT_LOGIT)
    logits = torch.cat([true_logit, sampled_logits], 1)
    return F.cross_entropy(logits, torch.zeros(N, dtype=torch.long))  # the true class is column 0


# ---- model -------------------------------------------------------------------------------------------------------
class Multi30kModel(nn.Module):
    def __init__(self, m, source_vocab, target_vocab, encoder_impl="packed"):
        super().__init__()
        E, H = m["embeddingSize"], m["hiddenSize"]
        assert m["bidirectional"] and m["attention"] == "dot" and m["cell"]["kind"] == "gru"
        assert m["encoderLayers"] == 1 and m["decoderLayers"] == 1 and m["dropout"]["stateKeep"] == 1
        self.H, self.He = H, H // 2
        self.p_in, self.p_out = 1 - m["dropout"]["inputKeep"], 1 - m["dropout"]["outputKeep"]
        self.encoder_impl = encoder_impl
        self.src_emb = nn.Embedding(source_vocab, E)  # N(0, 1), as the toolkit's
        self.tgt_emb = nn.Embedding(target_vocab, E)
        self.enc = nn.GRU(E, self.He, bidirectional=True)  # time-major; reset-after GRU, as the toolkit's
        self.dec = nn.GRU(E, H)
        self.Wc = nn.Linear(2 * H, H, bias=False)
        # Output layer as [V, H] rows (nn.Linear's layout), so that sampled softmax gathers rows.
        self.out_W = nn.Parameter(torch.empty(target_vocab, H).uniform_(-1 / math.sqrt(H), 1 / math.sqrt(H)))
        self.out_b = nn.Parameter(torch.zeros(target_vocab))

    def encode(self, b):
        """-> memory [B, S, H] (zero at padding, after output dropout), mask bias [B, 1, S], initial state [B, H]."""
        x = F.dropout(self.src_emb(b["src"]), self.p_in, self.training)  # [S, B, E], left-aligned
        if self.encoder_impl == "packed":
            packed = nn.utils.rnn.pack_padded_sequence(x, b["src_len"], enforce_sorted=False)
            out, hn = self.enc(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])  # [S, B, H]
            final = torch.cat([hn[0], hn[1]], 1)  # bridge 'copy': [h_fwd | h_bwd]
        else:
            out, final = self._encode_cells(x, b["src_mask"])
        out = F.dropout(out, self.p_out, self.training)
        return out.transpose(0, 1), b["src_bias"], final

    def _encode_cells(self, x, mask):
        """The masked loop the toolkit runs, per direction: at padding the state is carried and the output is 0.
        On left-aligned input, the backward loop (t = S-1 .. 0) reads each sentence reversed within its length."""
        S, B, _ = x.shape
        e = self.enc
        w = {"fwd": (e.weight_ih_l0, e.weight_hh_l0, e.bias_ih_l0, e.bias_hh_l0),
             "bwd": (e.weight_ih_l0_reverse, e.weight_hh_l0_reverse, e.bias_ih_l0_reverse, e.bias_hh_l0_reverse)}
        outs, finals = {}, {}
        for d, steps in (("fwd", range(S)), ("bwd", range(S - 1, -1, -1))):
            h = x.new_zeros(B, self.He)
            o = [None] * S
            for t in steps:
                m = mask[t].unsqueeze(1)
                h = m * torch.gru_cell(x[t], h, *w[d]) + (1 - m) * h
                o[t] = m * h
            outs[d], finals[d] = torch.stack(o), h
        return torch.cat([outs["fwd"], outs["bwd"]], 2), torch.cat([finals["fwd"], finals["bwd"]], 1)

    def features(self, b):
        """Teacher forcing -> h~ [B, T, H] at every target position (padding included)."""
        memory, bias, h0 = self.encode(b)
        y = F.dropout(self.tgt_emb(b["tgt_in"]), self.p_in, self.training)  # [T, B, E]
        s, _ = self.dec(y, h0.unsqueeze(0))
        s = F.dropout(s, self.p_out, self.training).transpose(0, 1)  # [B, T, H]
        weights = torch.softmax(torch.bmm(s, memory.transpose(1, 2)) + bias, 2)  # [B, T, S]
        return torch.tanh(self.Wc(torch.cat([torch.bmm(weights, memory), s], 2)))

    def loss(self, b, sampler):
        # Only real target positions (EOS included) reach the output layer: the toolkit scores every padded position
        # too, at weight 0; the loss is the same (mean over real tokens).
        h = self.features(b)[b["tgt_real"]]
        return sampled_softmax_loss(h, self.out_W, self.out_b, b["tgt_out"][b["tgt_real"]], sampler)


# ---- data --------------------------------------------------------------------------------------------------------
def to_tensors(raw):
    """A toolkit batch (time-major, sources reversed and front-padded) -> tensors: sources left-aligned [S, B] (the
    same reversed order, padding moved to the back, as packing wants), target inputs [T, B], outputs and real
    positions [B, T] (batch-major, the order h~ comes in)."""
    B, S, T = raw["size"], raw["sourceSteps"], raw["targetSteps"]
    src = torch.tensor(raw["source"]).view(S, B)
    lengths = torch.tensor(raw["sourceLengths"])
    t = torch.arange(S).unsqueeze(1)
    pad = S - lengths
    left = src.gather(0, (t + pad).clamp(max=S - 1)).masked_fill(t >= lengths, PAD)
    mask = (t < lengths).float()  # [S, B]
    return {
        "src": left, "src_len": lengths, "src_mask": mask,
        "src_bias": ((1 - mask.t()) * -1e9).unsqueeze(1),  # [B, 1, S]
        "tgt_in": torch.tensor(raw["targetIn"]).view(T, B),
        "tgt_out": torch.tensor(raw["targetOut"]).view(T, B).t().contiguous(),
        "tgt_real": torch.tensor(raw["targetMask"]).view(T, B).t().contiguous() > 0,
        # Real target tokens, EOS included: the unit of train_tokens_per_s on both sides.
        "tokens": int(sum(raw["targetLengths"])),
    }


def build(prepared, encoder_impl, seed):
    cfg = prepared["config"]
    torch.manual_seed(seed)
    model = Multi30kModel(cfg["model"], prepared["sourceVocab"], prepared["targetVocab"], encoder_impl)
    t = cfg["training"]
    assert t["optimizer"] == "adam" and cfg["loss"]["softmax"] == "sampled"
    # tf.train.adam's ε on the toolkit's backends is 1e-7.
    opt = torch.optim.Adam(model.parameters(), lr=t["learningRate"], eps=1e-7)
    sampler = LogUniformSampler(prepared["targetVocab"], cfg["loss"]["numSampled"],
                                torch.Generator().manual_seed(seed + 1))
    return model, opt, sampler, t["clipNorm"]


def train_step(model, opt, sampler, clip, b):
    loss = model.loss(b, sampler)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss)


def selftest(prepared):
    """Checks on the prepared batches: shapes, a finite loss, and the packed encoder against the masked cell loop
    and against a per-sentence bidirectional GRU."""
    ok = True
    model, opt, sampler, clip = build(prepared, "packed", 0)
    model.eval()  # no dropout: both encoders must agree exactly
    raw = next(r for r in prepared["batches"] if min(r["sourceLengths"]) < r["sourceSteps"])  # padding present
    b = to_tensors(raw)
    with torch.no_grad():
        m1, _, f1 = model.encode(b)
        model.encoder_impl = "cell"
        m2, _, f2 = model.encode(b)
        d = max((m1 - m2).abs().max().item(), (f1 - f2).abs().max().item())
        ref = []
        for i in range(raw["size"]):
            L = int(b["src_len"][i])
            _, hn = model.enc(model.src_emb(b["src"][:L, i:i + 1]))
            ref.append(torch.cat([hn[0, 0], hn[1, 0]]))
        d_ref = (torch.stack(ref) - f1).abs().max().item()
        pad_out = m1.transpose(0, 1)[b["src_mask"] == 0].abs().max().item()
        h = model.features(b)
    log("selftest: packed vs cell encoder max|diff| %.2e, vs per-sentence GRU %.2e, |outputs at padding| %.1e"
        % (d, d_ref, pad_out))
    ok &= d < 1e-5 and d_ref < 1e-5 and pad_out == 0.0
    shape_ok = list(h.shape) == [raw["size"], raw["targetSteps"], model.H]
    model.train()
    model.encoder_impl = "packed"
    loss = train_step(model, opt, sampler, clip, b)
    ids, tries = sampler.draw()
    distinct = len(set(ids.tolist())) == sampler.m and tries >= sampler.m
    log("selftest: features %s, loss %.3f (finite: %s), %d distinct candidates in %d draws"
        % (list(h.shape), loss, math.isfinite(loss), len(set(ids.tolist())), tries))
    ok &= shape_ok and math.isfinite(loss) and distinct
    log("selftest:", "PASS" if ok else "FAIL")
    return ok


def main(cfg, encoder, selftest_only, machine):
    """machine(): figures about the machine (BLAS, the load of other processes) for the JSON line."""
    t_start = time.perf_counter()
    with open(cfg["batches"]) as f:
        prepared = json.load(f)
    if selftest_only:
        sys.exit(0 if selftest(prepared) else 1)
    batches = [to_tensors(r) for r in prepared["batches"]]
    W, K, R = int(cfg["warmupSteps"]), int(cfg["trainSteps"]), max(1, int(cfg["repeats"]))
    warm, timed = batches[:W], batches[W:W + K]
    model, opt, sampler, clip = build(prepared, "packed" if encoder == "auto" else encoder, cfg.get("seed", 1))
    model.train()
    for b in warm:
        train_step(model, opt, sampler, clip, b)
    encoder_times = {}
    if encoder == "auto":
        # The peer in its fastest form: both encoders on the same 2 batches, 3 alternating rounds, the faster kept.
        for r in range(3):
            for impl in ("cell", "packed"):
                model.encoder_impl = impl
                t0 = time.perf_counter()
                for b in timed[2 * r:2 * r + 2]:
                    train_step(model, opt, sampler, clip, b)
                encoder_times.setdefault(impl, []).append(time.perf_counter() - t0)
        model.encoder_impl = min(encoder_times, key=lambda k: statistics.median(encoder_times[k]))
        log("encoder: %s (median s per 2 steps: %s)" % (model.encoder_impl, ", ".join(
            "%s %.3f" % (k, statistics.median(v)) for k, v in encoder_times.items())))
    run_tokens = sum(b["tokens"] for b in timed)
    runs, last = [], float("nan")
    for r in range(R):
        t0 = time.perf_counter()
        for b in timed:
            last = train_step(model, opt, sampler, clip, b)
        runs.append(run_tokens / (time.perf_counter() - t0))
        log("train run %d: %.1f tgt tokens/s (loss %.3f)" % (r + 1, runs[-1], last))
    result = {
        "engine": "pytorch",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "config": cfg,
        "vocabularies": [prepared["sourceVocab"], prepared["targetVocab"]],
        "encoder_impl": model.encoder_impl,
        "encoder_auto_s_per_2_steps": {k: round(statistics.median(v), 4) for k, v in encoder_times.items()},
        "tokens_per_run": run_tokens,
        "train_tokens_per_s": round(statistics.median(runs), 1),
        "train_tokens_per_s_runs": [round(x, 1) for x in runs],
        "train_final_loss": round(last, 4),
        **machine(),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wall_s": round(time.perf_counter() - t_start, 2),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    log("run this through seq2seq_bench.py (it sets threads and BLAS up first): see the docstring")
    sys.exit(2)
