#pragma once
// The CPU backend: Eigen, multithreaded (model/thread_pool), FP32 compute. Weights stay in
// their stored dtype in the mapped checkpoint and are converted tile by tile inside each
// matmul (model/cpu_matmul), so resident memory stays close to the file size. FP8 path:
// dequantize (FP8 value x its 128x128 block scale, in FP32), no activation quantisation.
#include <memory>

#include "model/backend.hpp"
#include "model/kv_cache.hpp"
#include "model/rope.hpp"
#include "model/thread_pool.hpp"

namespace dsv3::model {

class CpuBackend : public Backend {
 public:
  CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& opt);
  std::string name() const override { return "cpu"; }
  const Model& model() const override { return *model_; }
  void reset(int max_seqs, int64_t max_len) override;
  int64_t length(int slot) const override;
  void truncate(int slot, int64_t len) override;
  std::vector<SeqOutput> forward(const std::vector<SeqInput>& in, const ForwardOptions& opt) override;

  bool has_mtp() const override { return !model_->weights.mtp.empty(); }
  int64_t mtp_length(int slot) const override;
  void mtp_truncate(int slot, int64_t len) override;
  std::vector<SeqOutput> forward_mtp(const std::vector<MtpInput>& in, const ForwardOptions& opt) override;

  int threads() const { return pool_.size(); }

 private:
  struct Prepared;
  void check_slot(int slot) const;
  std::vector<SeqOutput> finish(const std::vector<float>& x, const struct BatchLayout& b, const ForwardOptions& opt,
                                const std::vector<float>& norm, const Linear& head);

  std::shared_ptr<const Model> model_;
  ThreadPool pool_;
  Rope rope_;
  LatentKvCache cache_, mtp_cache_;
  std::vector<int64_t> len_, mtp_len_;
};

}  // namespace dsv3::model
