#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, with .gpu/ carried (tools/device/bundle.sh made it):
# the CUDA conformance suite, then the kernel and step benchmarks on CUDA. Every log and JSON file is packed into
# $OUT/suite.tgz (the device tool returns at most 8 files).
# Usage: tools/device/gpu-suite.sh [tests] [quick] [quick-tf32] [step] [step-tf32] [ptxas] [torch] [fmnist]
#        [fmnist-full] [fmnist-tf32] [prefetch-tf32] [sweep] [base-step-tf32] [base-quick-tf32]
#        [tile-tf32]
#        [sass] [step-tf32-opts]
#        base-*: the same benchmark from each .gpu/base-REV.tar.xz (bundle.sh base REV), for an A/B in one call
#        (no argument: tests quick step; tests needs `bundle.sh tests`, fmnist needs `bundle.sh train`)
set -uo pipefail
RESULT=${OUT:-/tmp/out}; OUT=/tmp/suite; mkdir -p "$RESULT" "$OUT"
trap 'tar -C "$OUT" -czf "$RESULT/suite.tgz" .' EXIT
what=${*:-tests quick step}
mkdir -p /opt/dn /opt/app
tar -C /opt/dn -xJf .gpu/runtime.tar.xz && tar -C /opt/app -xJf .gpu/app.tar.xz || exit 1
train() { local name=$1 limit=$2; shift 2; run "$name" "$limit" dotnet /opt/app/train/EmpSsl.Train.dll train --device cuda --data .gpu/fashion-mnist --out "/tmp/runs/$name" "$@"; cp "/tmp/runs/$name/results.json" "$OUT/$name-results.json"; }
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
      run kernels-cuda 300 bash -c "$(xunit kernels-tests EmpSsl.Kernels.Tests.dll '*Cuda*' kernels-cuda)"
      run crops-cuda 120 bash -c "$(xunit train-tests EmpSsl.Train.Tests.dll '*OnCuda' crops-cuda)" ;;
    quick)
      run quick-cuda 200 dotnet /opt/app/bench/EmpSsl.Bench.dll quick --device cuda --json "$OUT/quick-cuda.json" ;;
    quick-tf32)
      run quick-cuda-tf32 200 dotnet /opt/app/bench/EmpSsl.Bench.dll quick --device cuda --tf32 --json "$OUT/quick-cuda-tf32.json" ;;
    prefetch-tf32)
      # The TF32 convolutions under each schedule, pinned (auto is what quick-tf32 and step-tf32 run).
      for p in always never; do
        run "quick-tf32-$p" 200 dotnet /opt/app/bench/EmpSsl.Bench.dll quick --device cuda --tf32 --prefetch $p --json "$OUT/quick-tf32-$p.json"
        run "step-tf32-$p-b100" 150 dotnet /opt/app/bench/EmpSsl.Bench.dll step --arch resnet18 --image 32 --batch 100 --patches 20 --device cuda --tf32 --prefetch $p --json "$OUT/step-tf32-$p-b100.json"
      done ;;
    tile-tf32)
      # The TF32 convolutions in each block, pinned (auto is what quick-tf32 and step-tf32 run).
      for t in narrow wide flat; do
        run "quick-tf32-$t" 200 dotnet /opt/app/bench/EmpSsl.Bench.dll quick --device cuda --tf32 --tile $t --json "$OUT/quick-tf32-$t.json"
        for b in 8 100; do
          run "step-tf32-$t-b$b" 150 dotnet /opt/app/bench/EmpSsl.Bench.dll step --arch resnet18 --image 32 --batch $b --patches 20 --device cuda --tf32 --tile $t --json "$OUT/step-tf32-$t-b$b.json"
        done
      done ;;
    base-step-tf32|base-quick-tf32)
      # Every .gpu/base-REV.tar.xz (bundle.sh base REV), each unpacked to /opt/base-REV.
      for bundle in .gpu/base-*.tar.xz; do
        [ -e "$bundle" ] || { echo "no .gpu/base-*.tar.xz"; break; }
        name=$(basename "$bundle" .tar.xz)
        [ -d "/opt/$name" ] || { mkdir -p "/opt/$name" && tar -C "/opt/$name" -xJf "$bundle"; } || exit 1
        if [ "$w" = base-quick-tf32 ]; then
          run "$name-quick-cuda-tf32" 200 dotnet "/opt/$name/bench/EmpSsl.Bench.dll" quick --device cuda --tf32 --json "$OUT/$name-quick-cuda-tf32.json"
        else
          for b in ${BASE_BATCHES:-8 100}; do
            run "$name-step-tf32-cuda-b$b" 150 dotnet "/opt/$name/bench/EmpSsl.Bench.dll" step --arch resnet18 --image 32 --batch $b --patches 20 --device cuda --tf32 --json "$OUT/$name-step-tf32-cuda-b$b.json"
          done
        fi
      done ;;
    sass)
      # The SASS ptxas makes of each matching kernel (PTXAS_MATCH, default the TF32 weight gradients), for counting
      # what the loops issue.
      for f in .gpu/ptx/*${PTXAS_MATCH:-Conv2dBackwardWeightTf32}*.ptx; do
        k=$(basename "$f" .ptx)
        ptxas -arch=sm_90 "$f" -o "/tmp/$k.cubin" && cuobjdump -sass "/tmp/$k.cubin" > "$OUT/sass-$k.txt" 2>&1
      done ;;
    step-tf32-opts)
      # The b = 100 TF32 step with the benchmark options in STEP_OPTS (e.g. "--prefetch never"), for one A/B.
      run step-tf32-opts-b100 150 dotnet /opt/app/bench/EmpSsl.Bench.dll step --arch resnet18 --image 32 --batch 100 --patches 20 --device cuda --tf32 ${STEP_OPTS:-} --json "$OUT/step-tf32-opts-b100.json" ;;
    step|step-tf32)
      tf=""; [ "$w" = step-tf32 ] && tf="--tf32"
      for b in 8 100; do
        run "$w-cuda-b$b" 150 dotnet /opt/app/bench/EmpSsl.Bench.dll step --arch resnet18 --image 32 --batch $b --patches 20 --device cuda $tf --json "$OUT/$w-cuda-b$b.json"
      done ;;
    ptxas)
      # PTX dumped here by EMPSSL_PTX_DUMP=.gpu/ptx with the PtxCompileTests; registers and spills per kernel
      # (PTXAS_MATCH narrows the Conv2d kernels, e.g. PTXAS_MATCH=Tf32Flat).
      for f in .gpu/ptx/*${PTXAS_MATCH:-Conv2d}*.ptx .gpu/ptx/*GemmNN*.ptx; do
        run "ptxas-$(basename "$f" .ptx)" 60 ptxas -arch=sm_90 -v "$f" -o /dev/null
      done ;;
    torch)
      run torch-b8 120 python3 tools/device/torch_step.py 8 20
      run torch-b100 120 python3 tools/device/torch_step.py 100 20 ;;
    fmnist) train fmnist-default 200 ;;
    sweep)
      # .gpu/sweep.txt: one run per line, a name and then train's options.
      while read -r name opts; do
        [ -n "$name" ] && train "$name" 200 $opts
      done < .gpu/sweep.txt ;;
    fmnist-full) train fmnist-full-n20 240 --width 1 --patches 20 ;;
    fmnist-tf32) train fmnist-gpu-tf32 240 --preset fmnist-gpu --tf32 ;;
  esac
done
