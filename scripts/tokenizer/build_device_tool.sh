#!/usr/bin/env bash
# Builds scripts/tokenizer/device_tool.cpp with the tokenizer sources into one fully static
# x86-64 binary (PCRE2 from libpcre2-8.a, fmt header-only), so that it runs on a machine
# with none of this project's libraries. Usage: scripts/tokenizer/build_device_tool.sh OUT
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: build_device_tool.sh OUTPUT_BINARY}
srcs=("$here"/model/tokenizer*.cpp "$here"/scripts/tokenizer/device_tool.cpp)
g++ -std=c++20 -O2 -DNDEBUG -DFMT_HEADER_ONLY -DPCRE2_STATIC -I"$here" "${srcs[@]}" \
    -static -pthread /usr/lib/x86_64-linux-gnu/libpcre2-8.a -o "$out"
