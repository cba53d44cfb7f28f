#!/usr/bin/env bash
# Packs what a GPU machine without the .NET SDK needs into .gpu/ (ignored through .git/info/exclude): the .NET
# runtime, xunit's console runner, and Release builds of the kernel tests, the crop-renderer tests and the
# benchmark. The device tool carries .gpu/ and tools/device/gpu-suite.sh unpacks and runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
dotnet build EmpSsl.sln -c Release -warnaserror -v q -nologo
runner=$(dirname "$(find ~/.nuget/packages/xunit.runner.console/2.4.1 -path '*netcoreapp2.0/xunit.console.dll' | head -1)")
if [ ! -d "$runner" ]; then
  echo "bundle: xunit.runner.console 2.4.1 is not in ~/.nuget/packages; restore it with a PackageDownload first" >&2
  exit 1
fi
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
rm -rf .gpu && mkdir -p .gpu/stage
tar -C "$dotnet_root" -cJf .gpu/runtime.tar.xz dotnet host shared/Microsoft.NETCore.App
cp -r "$runner" .gpu/stage/runner
cp -r tests/EmpSsl.Kernels.Tests/bin/Release/net10.0 .gpu/stage/kernels-tests
cp -r tests/EmpSsl.Train.Tests/bin/Release/net10.0 .gpu/stage/train-tests
cp -r EmpSsl.Bench/bin/Release/net10.0 .gpu/stage/bench
tar -C .gpu/stage -cJf .gpu/app.tar.xz .
rm -rf .gpu/stage
du -sh .gpu/*
