"""Helper of bench/recipes/nnunet.sh: runs with the nnU-Net venv's python. Subcommands:
  prepare DATA RAW TRAIN_CASES TEST_CASES   BraTS cases -> nnU-Net raw dataset RAW (images linked, labels as uint8)
  plans PLANS_JSON BATCH [PATCH]            adds configuration 2d_dlkbench (inherits 2d) with that batch size and,
                                            when PATCH ("128 128") is given, that patch size and the network
                                            nnU-Net's own planner derives for it (get_pool_and_conv_props)
  train DATASET_ID                          nnUNetTrainer_dlkbench on 2d_dlkbench, fold all, CPU (knobs: DLKBENCH_*)
  predict MODEL_DIR OUT_DIR TTA DIR:CASE...  nnUNetPredictor (checkpoint_final.pth, fold all) on CPU as
                                            nnUNetv2_predict -npp 0 -nps 0 -device cpu runs it, but with
                                            DLKBENCH_THREADS torch threads (the CLI takes every core); tile step
                                            DLKBENCH_STEP (0.5); TTA 1 = nnU-Net's mirroring, 0 = --disable_tta.
                                            DIR holds CASE_0000/_0001.nii.gz; writes OUT_DIR/CASE.nii.gz
  dice PRED_DIR DATA CASE...                whole-tumour Dice (labels > 0) against OTMultiClass.nii.gz
"""
import json
import os
import sys
import time


def prepare(data, raw, train_cases, test_cases):
    import nibabel as nib
    import numpy as np
    for sub in ("imagesTr", "labelsTr", "imagesTs"):
        os.makedirs(os.path.join(raw, sub), exist_ok=True)
    train, test = train_cases.split(), test_cases.split()
    for case in train + test:
        src = os.path.join(data, f"brats_2013_{case}_1")
        imgs = "imagesTr" if case in train else "imagesTs"
        for ch, name in ((0, "Flair"), (1, "T1c")):
            dst = os.path.join(raw, imgs, f"{case}_{ch:04d}.nii.gz")
            if os.path.lexists(dst):
                os.remove(dst)
            os.symlink(os.path.join(src, f"{name}_subtrMeanDivStd.nii.gz"), dst)
        if case in train:  # OTMultiClass is stored as float32 0.0..4.0: written again as uint8, same header
            img = nib.load(os.path.join(src, "OTMultiClass.nii.gz"))
            lab = np.rint(np.asarray(img.dataobj)).astype(np.uint8)
            hdr = img.header.copy()
            hdr.set_data_dtype(np.uint8)
            hdr["scl_slope"], hdr["scl_inter"] = 1, 0
            nib.save(nib.Nifti1Image(lab, img.affine, hdr), os.path.join(raw, "labelsTr", f"{case}.nii.gz"))
    ds = {"channel_names": {"0": "FLAIR", "1": "T1c"},  # not CT: nnU-Net z-scores each channel per case
          "labels": {"background": 0, "necrosis": 1, "edema": 2, "nonenhancing": 3, "enhancing": 4},
          "numTraining": len(train), "file_ending": ".nii.gz",
          "name": "BraTS2013dlkbench", "description": "BraTS 2013 cases of ../shared/data, bench/recipes/nnunet.sh"}
    with open(os.path.join(raw, "dataset.json"), "w") as f:
        json.dump(ds, f, indent=1)


def plans(path, batch, patch=None):
    with open(path) as f:
        p = json.load(f)
    base = p["configurations"]["2d"]
    cfg = {"inherits_from": "2d", "batch_size": int(batch)}
    if patch:
        from nnunetv2.experiment_planning.experiment_planners.network_topology import get_pool_and_conv_props
        want = [int(x) for x in patch.split()]
        spacing = base["spacing"]
        # the same call as ExperimentPlanner.get_plans_for_configuration (min feature map 4, no cap on pooling)
        _, strides, kernels, patch_size, _ = get_pool_and_conv_props(spacing, want, 4, 999999)
        n = len(strides)
        ak = dict(base["architecture"]["arch_kwargs"])
        ak.update(n_stages=n, kernel_sizes=kernels, strides=strides,
                  features_per_stage=[min(512, 32 * 2 ** i) for i in range(n)],  # planner: base 32, max 512 in 2d
                  n_conv_per_stage=[2] * n, n_conv_per_stage_decoder=[2] * (n - 1))
        cfg["patch_size"] = [int(x) for x in patch_size]
        cfg["architecture"] = {**base["architecture"], "arch_kwargs": ak}
    p["configurations"]["2d_dlkbench"] = cfg
    with open(path, "w") as f:
        json.dump(p, f, indent=1)
    c = {**base, **cfg}
    a = c["architecture"]["arch_kwargs"]
    print(f"2d plan: patch {base['patch_size']} batch {base['batch_size']} stages {base['architecture']['arch_kwargs']['n_stages']}"
          f" features {base['architecture']['arch_kwargs']['features_per_stage']}; 2d_dlkbench: patch {c['patch_size']}"
          f" batch {c['batch_size']} stages {a['n_stages']} features {a['features_per_stage']}", file=sys.stderr)


def train(dataset_id):
    import torch
    from nnunetv2.run.run_training import run_training
    torch.set_num_threads(int(os.environ.get("DLKBENCH_THREADS", "1")))
    run_training(dataset_id, "2d_dlkbench", "all", trainer_class_name="nnUNetTrainer_dlkbench",
                 plans_identifier="nnUNetPlans", device=torch.device("cpu"))


def predict(model_dir, out_dir, tta, *case_dirs):
    import torch
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    torch.set_num_threads(int(os.environ.get("DLKBENCH_THREADS", "1")))
    torch.set_num_interop_threads(1)
    os.makedirs(out_dir, exist_ok=True)
    t = time.perf_counter()
    pr = nnUNetPredictor(tile_step_size=float(os.environ.get("DLKBENCH_STEP", "0.5")), use_gaussian=True, use_mirroring=tta == "1",
                         perform_everything_on_device=False, device=torch.device("cpu"), verbose=False,
                         verbose_preprocessing=False, allow_tqdm=False)
    pr.initialize_from_trained_model_folder(model_dir, use_folds=("all",), checkpoint_name="checkpoint_final.pth")
    inputs, outputs = [], []
    for d in case_dirs:
        d, case = d.rsplit(":", 1)
        inputs.append([os.path.join(d, f"{case}_0000.nii.gz"), os.path.join(d, f"{case}_0001.nii.gz")])
        outputs.append(os.path.join(out_dir, case))
    pr.predict_from_files_sequential(inputs, outputs, save_probabilities=False, overwrite=True)
    print("%.2f" % (time.perf_counter() - t))


def dice(pred_dir, data, *cases):
    import nibabel as nib
    import numpy as np
    for case in cases:
        pi = nib.load(os.path.join(pred_dir, f"{case}.nii.gz"))
        p = np.asarray(pi.dataobj)
        t = np.asarray(nib.load(os.path.join(data, f"brats_2013_{case}_1", "OTMultiClass.nii.gz")).dataobj)
        assert p.shape == t.shape, (p.shape, t.shape)
        p, t = p > 0, t > 0
        print(f"{case}\t{2 * (p & t).sum() / max(1, p.sum() + t.sum()):.4f}\t{pi.get_data_dtype()}\t{p.shape}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"prepare": prepare, "plans": plans, "train": train, "predict": predict, "dice": dice}[cmd](*args)
