"""Checks of dlk-export's models for tests/e2e/export.sh, against references that are not the
exporter: dlk's own logits (dlk-parity-export's io.dlkc, LibTorch's forward), the Python reference
network (bench/reference/dlkunet.py, plain PyTorch) on the checkpoint's tensors, numpy's softmax,
and the checkpoint's bytes. Each command prints what it measured and exits 1 when it fails.

  logits MODEL PARITY_DIR TOL           ONNX Runtime vs dlk's eval logits (|diff| <= TOL x range),
                                        then batch 1 and another size vs the Python reference
  torchscript MODEL PARITY_DIR TOL      the same with torch.jit.load
  ensemble MODEL KIND CKPT...           probabilities (mean softmax) or labels vs the reference
  network MODEL CKPT NETWORK            the teacher/student of a semi-supervised checkpoint
  metadata MODEL CKPT KEY=JSON...       metadata_props: keys present, checksum, given values
  agree A.nii.gz B.nii.gz MIN           label maps agree on >= MIN of voxels, foreground in both
"""
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "reference"))
import dlk_checkpoint  # noqa: E402

failed = False


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what)
    failed |= not ok


def reference(ckpt, prefix=""):
    """The Python reference network with the checkpoint's tensors (those under `prefix`)."""
    import torch
    from dlkunet import from_config
    meta, tensors = dlk_checkpoint.read(ckpt)
    model = from_config(meta["model"])
    state = {k[len(prefix):]: torch.from_numpy(v) for k, v in tensors.items()
             if k.startswith(prefix) and "/" not in k[len(prefix):]}
    model.load_state_dict(state)
    return model.eval()


def run_ref(model, x):
    import torch
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def session(path):
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(path), full_check=True)  # raises on any fault
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def softmax(a):
    e = np.exp(a - a.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def close(name, got, want, tol):
    diff, span = float(np.abs(got - want).max()), float(np.ptp(want))
    check(got.shape == want.shape and diff <= tol * span,
          f"{name}: shape {got.shape}, max |diff| {diff:.3g} <= {tol:g} x range {span:.3g}")


def forward_checks(name, run, parity, tol):
    _, io = dlk_checkpoint.read(os.path.join(parity, "io.dlkc"))
    close(f"{name} vs dlk's logits", run(io["input"]), io["eval_output"], tol)
    # Dynamic batch and size: one slice of another height and width, against the reference.
    model = reference(os.path.join(parity, "model.dlkc"))
    multiple = 2 ** {"S": 2, "M": 3, "L": 4}[dlk_checkpoint.read(os.path.join(parity, "model.dlkc"))[0]["model"]["variant"]]
    x = np.random.default_rng(7).standard_normal((1, io["input"].shape[1], 3 * multiple, 5 * multiple)).astype(np.float32)
    close(f"{name} at 1x{x.shape[2]}x{x.shape[3]} vs the reference", run(x), run_ref(model, x), tol)


def cmd_logits(path, parity, tol):
    s = session(path)
    check(s.get_inputs()[0].name == "image" and s.get_outputs()[0].name == "logits", "input 'image', output 'logits'")
    import onnx
    m = onnx.load(path)
    check(m.opset_import[0].version >= 17, f"opset {m.opset_import[0].version} >= 17")
    ops = {n.op_type for n in m.graph.node}
    check("BatchNormalization" not in ops, f"BN folded (operators: {', '.join(sorted(ops))})")
    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    check(dims[0] == "batch" and dims[2:] == ["height", "width"], f"dynamic batch, height, width: {dims}")
    forward_checks("ONNX Runtime", lambda x: s.run(None, {"image": x})[0], parity, float(tol))


def cmd_torchscript(path, parity, tol):
    import torch
    extra = {"dlk_metadata.json": ""}
    m = torch.jit.load(path, _extra_files=extra)
    check(json.loads(extra["dlk_metadata.json"]).get("dlk.metadata_version") == "1", "TorchScript carries the metadata")

    def run(x):
        with torch.no_grad():
            return m(torch.from_numpy(x)).numpy()
    forward_checks(f"torch.jit.load (PyTorch {torch.__version__})", run, parity, float(tol))


def cmd_ensemble(path, kind, *ckpts):
    s = session(path)
    models = [reference(c) for c in ckpts]
    x = np.random.default_rng(3).standard_normal((2, 1, 64, 64)).astype(np.float32)
    p = sum(softmax(run_ref(m, x)) for m in models) / len(models)
    y = s.run(None, {"image": x})[0]
    if kind == "probabilities":
        close(f"ensemble of {len(models)}: mean softmax", y, p, 1e-4)
    else:
        check(y.dtype == np.int64 and y.shape == p.shape[:1] + p.shape[2:], f"labels [N, H, W] int64: {y.shape} {y.dtype}")
        check(float((y == p.argmax(1)).mean()) >= 0.999, f"labels = argmax of the mean softmax on {(y == p.argmax(1)).mean():.4%}")


def cmd_network(path, ckpt, network):
    meta, _ = dlk_checkpoint.read(ckpt)
    held = meta["semi"]["model"]
    prefix = lambda net: "" if net == held else net + "/"
    model = reference(ckpt, prefix(network))
    other = reference(ckpt, prefix("student" if network == "teacher" else "teacher"))
    x = np.random.default_rng(5).random((2, meta["model"]["in_channels"], 64, 64), dtype=np.float32)  # as normalised
    y = session(path).run(None, {"image": x})[0]
    close(f"--network {network} (the checkpoint's model is its {held})", y, run_ref(model, x), 1e-4)
    check(float(np.abs(run_ref(other, x) - y).max()) > 1e-3 * float(np.ptp(y)), "and not the other network")


def cmd_metadata(path, ckpt, *pairs):
    import onnx
    props = {p.key: p.value for p in onnx.load(path).metadata_props}
    for key in ["dlk.metadata_version", "dlk.version", "dlk.checkpoints", "model.architecture", "model.output",
                "model.input_multiple", "classes", "class_values", "channels", "normalization", "orientation", "axis",
                "input_size", "resize"]:
        check(key in props, f"metadata has {key}")
    sha = hashlib.sha256(open(ckpt, "rb").read()).hexdigest()
    check(json.loads(props["dlk.checkpoints"])[0]["sha256"] == sha, f"the checkpoint's SHA-256 {sha[:12]}...")
    meta, _ = dlk_checkpoint.read(ckpt)
    check(json.loads(props["classes"]) == meta["classes"], f"classes {props['classes']}")
    check(json.loads(props["class_values"]) == list(range(len(meta["classes"]))), f"class values {props['class_values']}")
    check(json.loads(props["channels"]) == meta["preprocessing"]["channels"], f"channels {props['channels']}")
    for pair in pairs:
        key, want = pair.split("=", 1)
        check(json.loads(props.get(key, "null")) == json.loads(want) if props.get(key, "").startswith(("[", "{"))
              else props.get(key) == want, f"{key} = {props.get(key)} (want {want})")


def cmd_agree(a, b, least):
    import nibabel as nib
    ia, ib = nib.load(a), nib.load(b)
    la, lb = np.asarray(ia.dataobj), np.asarray(ib.dataobj)
    check(la.shape == lb.shape and np.allclose(ia.affine, ib.affine), f"same grid {la.shape}")
    agree = float((la == lb).mean())
    fg = [int((l > 0).sum()) for l in (la, lb)]
    check(agree >= float(least) and min(fg) > 0,
          f"{os.path.basename(b)}: labels agree on {agree:.4%} of voxels (>= {float(least):.1%}); foreground voxels {fg}")


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
    sys.exit(1 if failed else 0)
