#include "model/backend.hpp"

#include <fmt/core.h>

#include "model/cpu_backend.hpp"
#include "model/errors.hpp"

namespace dsv3::model {

std::vector<SeqOutput> Backend::forward_mtp(const std::vector<MtpInput>&, const ForwardOptions&) {
  throw InputError(fmt::format("backend '{}' has no MTP module", name()));
}

#if DSV3_CUDA_BACKEND
// Defined in model/cuda/ by the CUDA backend.
std::unique_ptr<Backend> make_cuda_backend(std::shared_ptr<const Model> model, const BackendOptions& opt);
#endif

std::unique_ptr<Backend> make_backend(const std::string& kind, std::shared_ptr<const Model> model,
                                      const BackendOptions& opt) {
  if (kind == "cpu") return std::make_unique<CpuBackend>(std::move(model), opt);
  if (kind == "cuda") {
#if DSV3_CUDA_BACKEND
    return make_cuda_backend(std::move(model), opt);
#else
    throw InputError("backend 'cuda' is not available in this build");
#endif
  }
  throw InputError(fmt::format("unknown backend '{}' (cpu or cuda)", kind));
}

}  // namespace dsv3::model
