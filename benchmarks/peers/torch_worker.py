# The torch side of benchmarks/peers.bench.ts: reads the benchmark's inputs from the raw files the
# bench writes, then answers commands on a pair of FIFOs so that torch's samples interleave with
# the JavaScript contenders' in one schedule. Commands (one per line):
#   check NAME      -> a JSON list of numbers fingerprinting NAME's result
#   time NAME K     -> runs NAME K times, answers the milliseconds per call (perf_counter)
#   quit
# Run by the bench as: /usr/bin/python3 torch_worker.py IN_FIFO OUT_FIFO DATA_DIR
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
fifo_in, fifo_out, data = sys.argv[1], sys.argv[2], sys.argv[3]
meta = json.load(open(os.path.join(data, "meta.json")))


def load(name, dtype=torch.float64):
    shape = meta[name]
    a = np.fromfile(os.path.join(data, name + ".f64"), dtype=np.float64).reshape(shape)
    return torch.from_numpy(a).to(dtype)


def fingerprint(arrays):
    out = []
    for a in arrays:
        f = a.detach().reshape(-1).to(torch.float64)
        n = f.numel()
        out += [f[0].item(), f[n // 3].item(), f[n - 1].item(), f.sum().item(), f.abs().sum().item()]
    return out


def scalar_chain():
    v = torch.tensor(0.5, dtype=torch.float64)
    for _ in range(100):
        v = torch.sin(v)
    return [v]


w1x, w1y = load("w1x"), load("w1y")


def w1():
    x = w1x.clone().requires_grad_(True)
    y = w1y.clone().requires_grad_(True)
    v = (torch.log(x) + x * y - torch.sin(y)).sum()
    gx, gy = torch.autograd.grad(v, [x, y])
    return [v, gx, gy]


def mlp(dtype):
    xs, ys = load("mlp_x", dtype), load("mlp_y", dtype)
    ps = [load(k, dtype).requires_grad_(True) for k in ("mlp_W1", "mlp_b1", "mlp_W2", "mlp_b2")]

    def run():
        h = torch.relu(xs @ ps[0] + ps[1])
        loss = -(ys * torch.log_softmax(h @ ps[2] + ps[3], -1)).sum(-1).mean()
        return [loss, *torch.autograd.grad(loss, ps)]

    return run


hW, hx = load("hess_W"), load("hess_x")


def hessian():
    g = lambda v: torch.tanh(hW @ v).sum() + (v ** 3).sum() / 3
    return [torch.autograd.functional.hessian(g, hx, vectorize=True)]


fW, fx = load("fwd_W"), load("fwd_x")
rW, rx = load("rev_W"), load("rev_x")


def jacfwd():
    return [torch.autograd.functional.jacobian(lambda v: torch.tanh(fW @ v), fx, vectorize=True, strategy="forward-mode")]


def jacrev():
    return [torch.autograd.functional.jacobian(lambda v: torch.tanh(rW @ v), rx, vectorize=True)]


work = {
    "scalar": scalar_chain,
    "w1": w1,
    "mlp-float64": mlp(torch.float64),
    "mlp-float32": mlp(torch.float32),
    "hessian": hessian,
    "jacfwd": jacfwd,
    "jacrev": jacrev,
}

with open(fifo_in, "r") as cmds, open(fifo_out, "w") as answers:
    for line in cmds:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        fn = work[parts[1]]
        if parts[0] == "check":
            answers.write(json.dumps(fingerprint(fn())) + "\n")
        else:
            k = int(parts[2])
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            answers.write(f"{(time.perf_counter() - t0) * 1e3 / k}\n")
        answers.flush()
