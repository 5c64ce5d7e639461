#pragma once
// Subcommand registry: each cli/cmd_*.cpp adds its subcommand through a static Registrar,
// so main.cpp only parses and dispatches. Callbacks do the work and throw dsv3::InputError
// for bad input.
#include <CLI/CLI.hpp>
#include <functional>

namespace dsv3::cli {

using AddCommand = std::function<void(CLI::App& root)>;

// Registers a function that adds one subcommand (with its options and callback) to root.
void register_command(int order, AddCommand add);

struct Registrar {
  Registrar(int order, AddCommand add) { register_command(order, std::move(add)); }
};

// True when stdout/stderr is a terminal (progress bars only there).
bool stderr_is_tty();

}  // namespace dsv3::cli
