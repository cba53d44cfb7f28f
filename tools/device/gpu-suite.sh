#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, with .gpu/ carried (tools/device/bundle.sh made it):
# the CUDA conformance suite, then the kernel and step benchmarks on CUDA. Every log goes to $OUT.
# Usage: tools/device/gpu-suite.sh [tests] [quick] [step]   (no argument: all three)
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
what=${*:-tests quick step}
mkdir -p /opt/dn /opt/app
tar -C /opt/dn -xJf .gpu/runtime.tar.xz && tar -C /opt/app -xJf .gpu/app.tar.xz || exit 1
export PATH=/opt/dn:$PATH DOTNET_ROOT=/opt/dn DOTNET_ROLL_FORWARD=Major DOTNET_CLI_TELEMETRY_OPTOUT=1
# Demanded, not probed: a CUDA that ILGPU cannot open fails the CUDA tests instead of skipping them.
export EMPSSL_DEVICE=cuda
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
run() { local name=$1 limit=$2; shift 2; echo "=== $name ($(date -u +%T))"; timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; echo "=== $name exit ${PIPESTATUS[0]}"; }
# xunit DIR ASSEMBLY METHOD-PATTERN NAME: xunit's console runner, from the test build's own folder.
xunit() { echo "cd /opt/app/$1 && dotnet /opt/app/runner/xunit.console.dll $2 -nocolor -method '$3' -xml $OUT/$4.xml"; }
for w in $what; do
  case $w in
    tests)
      run kernels-cuda 300 bash -c "$(xunit kernels-tests EmpSsl.Kernels.Tests.dll '*Cuda.*' kernels-cuda)"
      run crops-cuda 120 bash -c "$(xunit train-tests EmpSsl.Train.Tests.dll '*OnCuda' crops-cuda)" ;;
    quick)
      run quick-cuda 300 dotnet /opt/app/bench/EmpSsl.Bench.dll quick --device cuda --json "$OUT/quick-cuda.json" ;;
    step)
      run step-cuda-b8 150 dotnet /opt/app/bench/EmpSsl.Bench.dll step --arch resnet18 --image 32 --batch 8 --patches 20 --device cuda --json "$OUT/step-cuda-b8.json"
      run step-cuda-b100 200 dotnet /opt/app/bench/EmpSsl.Bench.dll step --arch resnet18 --image 32 --batch 100 --patches 20 --device cuda --json "$OUT/step-cuda-b100.json" ;;
  esac
done
