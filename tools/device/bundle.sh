#!/usr/bin/env bash
# Packs what a GPU machine without the .NET SDK needs into .gpu/ (ignored through .git/info/exclude): the .NET
# runtime, and Release builds. The device tool carries .gpu/, and tools/device/gpu-suite.sh unpacks and runs it.
# Usage: tools/device/bundle.sh tests   kernel and crop-renderer tests (with xunit's console runner), benchmark
#        tools/device/bundle.sh train   trainer, benchmark (without BenchmarkDotNet's compiler and tracing
#                                       libraries, which quick and step never load) and Fashion-MNIST
#        tools/device/bundle.sh base REV  the benchmark of commit REV alone, built in a temporary worktree, as
#                                       .gpu/base-REV.tar.xz: gpu-suite's base-* actions run each such bundle,
#                                       for an A/B against earlier code in the same call
# The device tool carries at most 64 MiB; the runtime takes 26 and Fashion-MNIST 31, hence two bundles.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:?usage: bundle.sh tests|train}
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
# The benchmark without BenchmarkDotNet's compiler and tracing libraries, which quick and step never load.
trim_bench() { rm -rf "$1"/Microsoft.CodeAnalysis*.dll "$1"/Microsoft.Diagnostics.*.dll "$1"/Iced.dll "$1"/{cs,de,es,fr,it,ja,ko,pl,pt-BR,ru,tr,zh-Hans,zh-Hant}; }
if [ "$what" = base ]; then
  rev=$(git rev-parse --short "${2:?usage: bundle.sh base REV}")
  tree=$(mktemp -d)/base
  git worktree add -q --detach "$tree" "$rev"
  trap 'git worktree remove --force "$tree"' EXIT
  dotnet build "$tree/EmpSsl.Bench" -c Release -v q -nologo
  mkdir -p .gpu && rm -rf "$tree/stage" && mkdir -p "$tree/stage"
  cp -r "$tree/EmpSsl.Bench/bin/Release/net10.0" "$tree/stage/bench" && trim_bench "$tree/stage/bench"
  tar -C "$tree/stage" -cf - . | xz -6 -T0 > ".gpu/base-$rev.tar.xz"
  du -sh .gpu/*
  exit 0
fi
dotnet build EmpSsl.sln -c Release -warnaserror -v q -nologo
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
mkdir -p .gpu && rm -rf .gpu/stage .gpu/app.tar.xz .gpu/fashion-mnist && mkdir -p .gpu/stage
# The runtime changes only with the SDK: packed once.
[ -f .gpu/runtime.tar.xz ] || tar -C "$dotnet_root" -cJf .gpu/runtime.tar.xz dotnet host shared/Microsoft.NETCore.App
cp -r EmpSsl.Bench/bin/Release/net10.0 .gpu/stage/bench
case $what in
  tests)
    runner=$(find ~/.nuget/packages/xunit.runner.console/2.4.1 -path '*netcoreapp2.0/xunit.console.dll' 2>/dev/null | head -1)
    if [ -z "$runner" ]; then
      echo "bundle: xunit.runner.console 2.4.1 is not in ~/.nuget/packages; restore it with a PackageDownload first" >&2
      exit 1
    fi
    cp -r "$(dirname "$runner")" .gpu/stage/runner
    cp -r tests/EmpSsl.Kernels.Tests/bin/Release/net10.0 .gpu/stage/kernels-tests
    cp -r tests/EmpSsl.Train.Tests/bin/Release/net10.0 .gpu/stage/train-tests ;;
  train)
    trim_bench .gpu/stage/bench
    cp -r EmpSsl.Train/bin/Release/net10.0 .gpu/stage/train
    mkdir -p .gpu/fashion-mnist && cp /usr/share/datasets/fashion-mnist/*.gz .gpu/fashion-mnist/ ;;
  *) echo "bundle: unknown bundle '$what' (tests, train or base REV)" >&2; exit 1 ;;
esac
tar -C .gpu/stage -cf - . | xz -6 -T0 > .gpu/app.tar.xz
rm -rf .gpu/stage
du -sh .gpu/*
