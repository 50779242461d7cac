#!/usr/bin/env python3
"""Check TinyGPT's weights and logits against PyTorch, and bring nanoGPT checkpoints over.

Run by hand; the Swift package never calls it. Needs `pip install torch safetensors`.

  compare MODEL.safetensors --prompt TEXT --logits FILE [--sidecar MODEL.json]
      Loads the exported weights with safetensors' own reader into a nanoGPT-style GPT
      (model.load_state_dict(strict=True)), runs the prompt, and prints the largest absolute
      difference from the logits TinyGPT wrote (plain text, one row of V floats per position).
  compare --dir DIR
      The same for every DIR/NAME.safetensors that has NAME.prompt.txt and NAME.logits.txt,
      e.g. what `TINYGPT_EXPORT_DIR=DIR swift test --filter SafetensorsTests` leaves.
  from-nanogpt CKPT.pt META.pkl OUT.safetensors
      Converts a nanoGPT character-level checkpoint (train.py's ckpt.pt and data/*/meta.pkl)
      into a safetensors file and sidecar JSON that TinyGPT imports.
  random-nanogpt DIR
      Writes a random bias-free nanoGPT model as DIR/nanogpt.ckpt.pt + DIR/meta.pkl, converts it
      to DIR/nanogpt.safetensors + .json, and adds a prompt; TinyGPT then writes its logits
      (`TINYGPT_IMPORT_DIR=DIR swift test --filter SafetensorsTests`) for `compare --dir DIR`.

The model follows nanoGPT's model.py (Karpathy): pre-norm blocks, LayerNorm eps 1e-5, causal
self-attention, MLP with GELU (exact erf, or the tanh form when the sidecar says "tanh"), and an
output head tied to the token embedding.
"""

import argparse
import json
import math
import os
import pickle
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from safetensors.torch import load_file, save_file
except ImportError as error:
    sys.exit(f"error: {error}; install the dependencies with `pip install torch safetensors`")


# ---------------------------------------------------------------------------------------------
# A nanoGPT-style GPT whose state-dict keys are nanoGPT's.

class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's nn.LayerNorm cannot drop only the bias)."""

    def __init__(self, width, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg["n_head"]
        self.c_attn = nn.Linear(cfg["n_embd"], 3 * cfg["n_embd"], bias=cfg["bias"])
        self.c_proj = nn.Linear(cfg["n_embd"], cfg["n_embd"], bias=cfg["bias"])

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool, device=x.device))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        width = cfg["n_embd"]
        self.c_fc = nn.Linear(width, 4 * width, bias=cfg["bias"])
        self.gelu = nn.GELU(approximate="tanh" if cfg["gelu"] == "tanh" else "none")
        self.c_proj = nn.Linear(4 * width, width, bias=cfg["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = LayerNorm(cfg["n_embd"], cfg["bias"])
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = LayerNorm(cfg["n_embd"], cfg["bias"])
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg["vocab_size"], cfg["n_embd"]),
            wpe=nn.Embedding(cfg["block_size"], cfg["n_embd"]),
            h=nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"])),
            ln_f=LayerNorm(cfg["n_embd"], cfg["bias"]),
        ))
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying, as nanoGPT

    def forward(self, idx):
        T = idx.size(1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T, device=idx.device))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


# ---------------------------------------------------------------------------------------------
# compare

def sidecar_path(path):
    return path[: -len(".safetensors")] + ".json" if path.endswith(".safetensors") else path + ".json"


def load_model(weights, sidecar):
    """The model in `weights`, its shape read from the tensors as TinyGPT's import does; the
    sidecar gives the vocabulary, n_head and the GELU form (exact when it says nothing)."""
    with open(sidecar, encoding="utf-8") as f:
        side = json.load(f)
    state = load_file(weights)
    # safetensors.torch.save_model keeps only one name of the tied pair.
    head = state.get("transformer.wte.weight", state.get("lm_head.weight"))
    state.setdefault("transformer.wte.weight", head)
    state.setdefault("lm_head.weight", head)
    side_cfg = side.get("config", {})
    cfg = dict(
        vocab_size=head.shape[0],
        n_embd=head.shape[1],
        block_size=state["transformer.wpe.weight"].shape[0],
        n_layer=1 + max(int(k.split(".")[2]) for k in state if k.startswith("transformer.h.")),
        n_head=side_cfg["n_head"],
        bias="transformer.ln_f.bias" in state,
        gelu=side_cfg.get("gelu", "exact"),
    )
    if len(side["vocab"]) != cfg["vocab_size"]:
        sys.exit(f"error: {sidecar} lists {len(side['vocab'])} characters but the weights have {cfg['vocab_size']} rows")
    model = GPT(cfg)
    model.load_state_dict(state, strict=True)
    return model.eval(), cfg, side["vocab"]


def compare_one(weights, sidecar, prompt, logits_path, tolerance, double):
    model, cfg, vocab = load_model(weights, sidecar)
    ids = {ch: i for i, ch in enumerate(vocab)}
    missing = sorted({ch for ch in prompt if ch not in ids})
    if missing:
        sys.exit(f"error: the prompt holds characters the vocabulary lacks: {missing!r}")
    if len(prompt) > cfg["block_size"]:
        sys.exit(f"error: the prompt is {len(prompt)} characters, longer than block_size {cfg['block_size']}")
    with open(logits_path, encoding="utf-8") as f:
        rows = [[float(v) for v in line.split()] for line in f if line.strip()]
    theirs = torch.tensor(rows, dtype=torch.float64)
    if theirs.shape != (len(prompt), cfg["vocab_size"]):
        sys.exit(f"error: {logits_path} holds {tuple(theirs.shape)} logits, expected ({len(prompt)}, {cfg['vocab_size']})")
    dtype = torch.float64 if double else torch.float32
    model.to(dtype)
    with torch.no_grad():
        ours = model(torch.tensor([[ids[ch] for ch in prompt]]))[0].to(torch.float64)
    diff = (ours - theirs).abs().max().item()
    scale = ours.abs().max().item()
    ok = diff <= tolerance
    print(f"{os.path.basename(weights)}: {cfg['n_layer']} layers, {cfg['n_head']} heads, width {cfg['n_embd']}, "
          f"GELU {cfg['gelu']}, bias {cfg['bias']}, {len(prompt)} positions x {cfg['vocab_size']} logits; "
          f"PyTorch {str(dtype).replace('torch.', '')} vs TinyGPT: max |diff| {diff:.3g} "
          f"(max |logit| {scale:.3g}) {'OK' if ok else 'FAIL'}")
    return ok


def command_compare(args):
    if args.dir:
        runs = []
        for name in sorted(os.listdir(args.dir)):
            if not name.endswith(".safetensors"):
                continue
            base = os.path.join(args.dir, name[: -len(".safetensors")])
            if os.path.exists(base + ".prompt.txt") and os.path.exists(base + ".logits.txt"):
                runs.append(base)
        if not runs:
            sys.exit(f"error: {args.dir} holds no NAME.safetensors with NAME.prompt.txt and NAME.logits.txt")
        ok = True
        for base in runs:
            with open(base + ".prompt.txt", encoding="utf-8") as f:
                prompt = f.read()
            ok &= compare_one(base + ".safetensors", base + ".json", prompt, base + ".logits.txt",
                              args.tolerance, args.double)
        return 0 if ok else 1
    if not args.weights or not args.logits or (args.prompt is None) == (args.prompt_file is None):
        sys.exit("error: give MODEL.safetensors, --logits FILE and one of --prompt/--prompt-file, or --dir DIR")
    prompt = args.prompt
    if args.prompt_file:
        with open(args.prompt_file, encoding="utf-8") as f:
            prompt = f.read()
    ok = compare_one(args.weights, args.sidecar or sidecar_path(args.weights), prompt, args.logits,
                     args.tolerance, args.double)
    return 0 if ok else 1


# ---------------------------------------------------------------------------------------------
# nanoGPT checkpoints

def write_tinygpt_files(state, model_args, itos, out):
    """Writes `state` (a nanoGPT state dict) as safetensors plus the sidecar JSON."""
    tensors = {}
    for key, value in state.items():
        key = key.removeprefix("_orig_mod.")
        if key.endswith(".attn.bias") and value.dim() == 4:
            continue  # the causal mask older nanoGPT kept as a buffer
        # clone: safetensors refuses tensors that share memory (the tied head does).
        tensors[key] = value.detach().to(torch.float32).contiguous().clone()
    vocab = [itos[i] for i in range(len(itos))]
    config = {key: model_args[key] for key in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size")}
    config["bias"] = bool(model_args.get("bias", True))
    config["gelu"] = "exact"
    metadata = {"format": "pt", "producer": "compare_with_pytorch.py from-nanogpt"}
    metadata.update({key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in config.items()})
    save_file(tensors, out, metadata=metadata)
    with open(sidecar_path(out), "w", encoding="utf-8") as f:
        json.dump({"format": "tinygpt-safetensors-sidecar", "version": 1, "config": config, "vocab": vocab},
                  f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out} ({len(tensors)} tensors) and {sidecar_path(out)} ({len(vocab)} characters)")


def command_from_nanogpt(args):
    checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    with open(args.meta, "rb") as f:
        meta = pickle.load(f)
    model_args = checkpoint["model_args"]
    if model_args["vocab_size"] != len(meta["itos"]):
        sys.exit(f"error: the model has vocab_size {model_args['vocab_size']} but {args.meta} lists "
                 f"{len(meta['itos'])} characters; use the meta.pkl of the dataset the model was trained on")
    write_tinygpt_files(checkpoint["model"], model_args, meta["itos"], args.out)
    return 0


def command_random_nanogpt(args):
    os.makedirs(args.dir, exist_ok=True)
    torch.manual_seed(args.seed)
    itos = dict(enumerate(sorted(set("\nHello, world! Grüße, 世界 🙂"))))
    cfg = dict(n_layer=3, n_head=2, n_embd=24, block_size=32, vocab_size=len(itos), bias=False, gelu="exact")
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.add_(1)
    # As train.py saves a torch.compile'd model in older nanoGPT: every key prefixed, with masks.
    state = {"_orig_mod." + k: v for k, v in model.state_dict().items()}
    for i in range(cfg["n_layer"]):
        state[f"_orig_mod.transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(32, 32)).view(1, 1, 32, 32)
    model_args = {k: cfg[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias")}
    model_args["dropout"] = 0.0
    ckpt = os.path.join(args.dir, "nanogpt.ckpt.pt")
    meta = os.path.join(args.dir, "meta.pkl")
    torch.save({"model": state, "model_args": model_args, "iter_num": 0, "best_val_loss": 1e9}, ckpt)
    with open(meta, "wb") as f:
        pickle.dump({"vocab_size": len(itos), "itos": itos, "stoi": {c: i for i, c in itos.items()}}, f)
    write_tinygpt_files(torch.load(ckpt, weights_only=True)["model"], model_args, itos,
                        os.path.join(args.dir, "nanogpt.safetensors"))
    with open(os.path.join(args.dir, "nanogpt.prompt.txt"), "w", encoding="utf-8") as f:
        f.write("Grüße, 世界 🙂\nHello!")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="compare TinyGPT's logits with PyTorch's")
    c.add_argument("weights", nargs="?", help="MODEL.safetensors exported by TinyGPT")
    c.add_argument("--sidecar", help="config and vocabulary JSON (default: MODEL.json)")
    c.add_argument("--prompt", help="the prompt TinyGPT ran")
    c.add_argument("--prompt-file", help="a UTF-8 file holding the prompt")
    c.add_argument("--logits", help="TinyGPT's logits: one line of V floats per prompt position")
    c.add_argument("--dir", help="compare every NAME.safetensors with NAME.prompt.txt and NAME.logits.txt")
    c.add_argument("--tolerance", type=float, default=1e-4, help="largest acceptable |difference| (default 1e-4)")
    c.add_argument("--double", action="store_true", help="run PyTorch in float64 instead of float32")
    c.set_defaults(run=command_compare)
    n = sub.add_parser("from-nanogpt", help="convert a nanoGPT ckpt.pt + meta.pkl for TinyGPT")
    n.add_argument("checkpoint")
    n.add_argument("meta")
    n.add_argument("out")
    n.set_defaults(run=command_from_nanogpt)
    r = sub.add_parser("random-nanogpt", help="write a random bias-free nanoGPT model for an import check")
    r.add_argument("dir")
    r.add_argument("--seed", type=int, default=0)
    r.set_defaults(run=command_random_nanogpt)
    args = parser.parse_args()
    sys.exit(args.run(args))


if __name__ == "__main__":
    main()
