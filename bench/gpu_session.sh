#!/usr/bin/env bash
# The GPU checks a session runs when it is lent a device machine, in one go (bench/README.md, "GPU"):
# tests/test_gpu.py, bench/nst_gpu.py (NST 512/1024/2048 px, 8 batched jobs), bench/presets_gpu.py (preset
# throughput at 512 px), then the four painting presets trained with the full recipe and the bilinear
# upsample-then-convolve decoder, in parallel, until the time budget is spent (each stops with a final checkpoint).
#
#   OUT=var/gpu bash bench/gpu_session.sh DATA [BUDGET_SECONDS]
#
# DATA holds photos/ and paintings/<artist>/ (../shared/images, or its copy from bench/shrink_for_device.py).
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD" RAY_AUTH_MODE=disabled
DATA=${1:-.gpu_data}; BUDGET=${2:-540}; OUT=${OUT:-var/gpu}; PY=${PY:-python3}
TRAIN=var/gpu-train; ARTISTS=${ARTISTS:-monet vangogh cezanne ukiyoe}
mkdir -p "$OUT" "$TRAIN"
start=$(date +%s)
{
  echo "== machine"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $PY -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)"
  echo "== tests/test_gpu.py"; timeout 150 $PY -m pytest -q -p no:cacheprovider tests/test_gpu.py
  echo "== bench/nst_gpu.py"; timeout 200 $PY bench/nst_gpu.py
  echo "== bench/presets_gpu.py"; timeout 90 $PY bench/presets_gpu.py
} 2>&1 | tee "$OUT/session.log"
minutes=$(awk -v b="$BUDGET" -v s="$(( $(date +%s) - start ))" 'BEGIN { m = (b - s - 75) / 60; print (m < 1 ? 1 : m) }')
echo "== training $ARTISTS for $minutes min each, in parallel" | tee -a "$OUT/session.log"
for artist in $ARTISTS; do
  $PY -m serve_app.cli train-preset "$artist" --paintings "$DATA/paintings/$artist" --photos "$DATA/photos" \
    --out "$TRAIN" --steps 4000 --decoder bilinear --time-limit "$minutes" --log-every 250 \
    --checkpoint-every 1000 --device gpu > "$TRAIN/$artist.log" 2>&1 &
done
wait
for artist in $ARTISTS; do
  echo "== train-preset $artist"; cat "$TRAIN/$artist.log"
  cp "$TRAIN/$artist.pth" "$OUT/" 2>/dev/null || echo "no checkpoint for $artist"
done 2>&1 | tee -a "$OUT/session.log"
echo "== done in $(( $(date +%s) - start )) s" | tee -a "$OUT/session.log"
