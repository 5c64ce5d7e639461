// dsv3: argument parsing and dispatch only. Each subcommand lives in cli/cmd_*.cpp.
#include <fmt/core.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <exception>
#include <map>
#include <vector>

#include "cli/command.hpp"
#include "dsv3_version.hpp"
#include "model/device.hpp"
#include "model/errors.hpp"

namespace dsv3::cli {
namespace {
std::vector<std::pair<int, AddCommand>>& registry() {
  static std::vector<std::pair<int, AddCommand>> r;
  return r;
}
}  // namespace

void register_command(int order, AddCommand add) { registry().emplace_back(order, std::move(add)); }

bool stderr_is_tty() { return isatty(STDERR_FILENO) != 0; }

}  // namespace dsv3::cli

namespace {

std::string version_text() {
  std::string s = fmt::format("dsv3 {} (git {})", DSV3_VERSION, DSV3_GIT_HASH);
  s += dsv3::model::cuda_compiled() ? ", CUDA backend compiled" : ", CPU only";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dsv3-lab: DeepSeek-V3 cost simulator, evaluation harness and model", "dsv3"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.fallthrough(false);

  auto& reg = dsv3::cli::registry();
  std::stable_sort(reg.begin(), reg.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [order, add] : reg) add(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "dsv3: error: {}\n", e.what());
    fmt::print(stderr, "run 'dsv3 --help' for usage\n");
    return 2;
  } catch (const dsv3::InputError& e) {
    fmt::print(stderr, "dsv3: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "dsv3: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
