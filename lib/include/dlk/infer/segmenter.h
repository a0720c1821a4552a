// A checkpoint segments cases slice by slice, with the preprocessing dlk-prep applied for its
// training data, and the labels go back on each case's own grid.
#pragma once
#include "dlk/infer/cpu_network.h"
#include "dlk/infer/device_lane.h"
#include "dlk/io/orientation.h"
#include "dlk/io/volume.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"
#include "dlk/prep/normalize.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dlk {

// Seconds a run spent in each stage, summed over the threads that ran it (dlk-infer --stats):
// read (files or shards read and decoded), preprocess (normalized, reoriented, slices cut out,
// resized or resampled), network, postprocess (argmax, back to the slice's size, into the volume,
// largest components), write (put back on the stored grid, encoded and written).
struct StageSeconds {
  double read = 0, preprocess = 0, network = 0, postprocess = 0, write = 0;
  double sum() const { return read + preprocess + network + postprocess + write; }
};

// The most float values a case's channels, or its probability maps, may hold in dlk-infer (2^32,
// 16 GiB): checked before they are allocated.
constexpr int64_t kMaxCaseValues = int64_t(1) << 32;

// One case to segment: its channels on one grid, already normalized.
struct InferCase {
  std::string id, source, extension = ".nii.gz"; // extension of the label volume to write
  Geometry geometry;  // of the channels, sliced and segmented: canonical when reoriented
  Geometry stored;    // of the input as stored, where the labels go back
  std::optional<Reorientation> orientation; // how `stored` became `geometry`; none: they are one
  std::vector<std::vector<float>> channels; // x fastest
  StageSeconds spent;                        // reading and preparing it (read and preprocess)

  // Voxels on `geometry` put back on the stored grid.
  template <class T> std::vector<T> to_stored(const std::vector<T>& v) const {
    return orientation && !orientation->identity() ? unreorient(v, stored, *orientation) : v;
  }
};

struct InferOptions {
  std::string device = "cpu", precision = "bf16";
  int64_t batch = 1;
  std::string resize = "labels"; // labels | logits
  bool tta = false, probabilities = false;
  std::string depthwise = "dlk"; // dlk's depthwise kernels, or "torch": LibTorch's (comparisons)
  // Of a semi-supervised run's checkpoint: "teacher" or "student"; "": the one it holds as its model.
  std::string network;
  // Per-class probability maps as NIfTI in this directory: CASE_NAME.nii.gz (NAME the class's, or
  // classK), uint8 p x 255 rounded so that a voxel's values sum to exactly 255; "" none.
  std::string probability_maps;
  // Post-processing (nnU-Net's): each listed class keeps its largest 3-D connected component
  // (face connectivity). Unset none, {} all, or class names or label values.
  std::optional<std::vector<std::string>> keep_largest;
  std::string series; // of a DICOM directory: UID or description (dlk/io/dicom_series.h)
  // Batches prepared ahead of the network and finished behind it (Segmenter::segment): while the
  // network runs batch i, a thread cuts batch i+1's slices out and another puts batch i-1's
  // labels in; 0: each batch's stages one after another.
  int64_t prefetch = 2;
};

// Slices per forward pass when none is asked for: 1 on a CPU (a batch's activations then stay in
// cache: DLKUNet-S runs twice as fast as with 16), 32 on a GPU.
inline int64_t default_batch(const std::string& device) { return device.rfind("cuda", 0) == 0 ? 32 : 1; }

// bf16 on a CPU only where it is faster than fp32: AVX512-BF16 with AMX (fp32 elsewhere, where
// bf16 would be emulated, or computed without AMX's tiles, and slower).
bool uses_cpu_bf16(const InferOptions& o);

struct Segmentation {
  std::vector<uint16_t> labels;      // on the case's grid, x fastest
  std::vector<std::vector<float>> probabilities; // per class, when asked for
};

class Segmenter {
public:
  // One checkpoint, or an ensemble whose softmax is averaged (with --tta: over models and flips).
  // An ensemble's checkpoints must agree on classes, input channels and preprocessing (the
  // first's is used); a checkpoint that differs is an error naming it.
  Segmenter(const std::vector<std::string>& checkpoints, const InferOptions& opt);
  const Checkpoint& checkpoint() const { return ckpt_; }
  std::vector<std::string> classes() const;
  int axis() const { return axis_; }
  // Whether the training data were reoriented to LPS before slicing (dlk-prep --orientation).
  bool canonical() const { return canonical_; }
  NormalizeSpec normalization() const;
  int64_t channels() const { return model_->config.in_channels; }
  Segmentation segment(const InferCase& c);
  int64_t slices_done() const { return slices_; }
  // Its own stages so far (preprocess, network, postprocess).
  const StageSeconds& seconds() const { return seconds_; }
  // Seconds the network's device computed (on a GPU: CUDA events from a batch's start to its
  // results copied; on a CPU: the network stage's time).
  double device_busy_seconds() const { return busy_; }

private:
  // How a case's slices (h x w) go through the model: resized or resampled to th x tw, padded
  // (right and bottom) to ph x pw; the logits cropped and brought back to h x w.
  struct Fit {
    int64_t h = 0, w = 0, th = 0, tw = 0, ph = 0, pw = 0;
    bool resample = false; // to the training spacing (else resized to the input size)
  };
  Fit fit(const InferCase& c) const;
  torch::Tensor to_model(torch::Tensor x, const Fit& f) const;
  // Labels [b, h, w] and, when asked for, probabilities [b, k, h, w] on the device.
  std::pair<torch::Tensor, torch::Tensor> from_model(torch::Tensor logits, const Fit& f) const;
  // Slices [s0, s0 + b) as a host batch [b, C, h, w] (pinned for a GPU).
  torch::Tensor host_batch(const InferCase& c, const Fit& f, int64_t s0, int64_t b, const DeviceLane& lane) const;
  // A host batch through the model on the lane's device; its results on their way to the host.
  DeviceLane::Transfer device_batch(DeviceLane& lane, const torch::Tensor& x, const Fit& f, StageSeconds& t);
  // A batch's results (arrived) into the case's volumes.
  void put_batch(const InferCase& c, int64_t s0, const DeviceLane::Transfer& r, Segmentation& out) const;
  // One batch's stages one after another.
  void segment_batch(const InferCase& c, const Fit& f, int64_t s0, int64_t b, Segmentation& out, StageSeconds& t,
                     DeviceLane& lane, double& busy);
  // The batches of a case through a pipeline of three threads (InferOptions::prefetch).
  void segment_pipelined(const InferCase& c, const Fit& f, Segmentation& out);
  // The logits of a batch at the model size: one model's, or for an ensemble or --tta the log of
  // the mean softmax.
  torch::Tensor model_logits(const torch::Tensor& x, bool amp, bool cpu_bf16);
  // Whether the model-size slices (h x w, padded) run on dlk's CPU network (else LibTorch's).
  bool runs_cpu_network(int64_t h, int64_t w) const;
  InferOptions opt_;
  Checkpoint ckpt_;
  DLKUNet model_{nullptr};           // the first
  std::vector<DLKUNet> ensemble_;    // every model, the first included
  std::vector<std::unique_ptr<CpuNetwork>> cpu_networks_; // the same on dlk's CPU kernels, or none
  int axis_ = 2;
  bool canonical_ = false;
  std::vector<double> spacing_; // [x, y] mm slices are resampled to; empty: resized to the input size
  int64_t height_ = 224, width_ = 224, slices_ = 0;
  StageSeconds seconds_;
  double busy_ = 0;
  std::unique_ptr<DeviceLane> lane_; // of the single-threaded paths
  int workers_ = 1; // threads that each segment their own slices (on a CPU: as many as LibTorch's)
};

// Reads a case's image volumes (one per channel; a DICOM directory: its `series`), checks them like
// dlk-prep, normalizes them with the checkpoint's recipe and, when `canonical`, reorients them to
// LPS as dlk-prep did.
InferCase read_case(const std::string& id, const std::vector<std::string>& images, const NormalizeSpec& norm, bool canonical,
                    const std::string& series = "");

} // namespace dlk
