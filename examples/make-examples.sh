#!/usr/bin/env bash
# Synthesises the example calls of conversations.txt with espeak-ng and
# encodes them with the ffmpeg program and sox (as phones would: AAC in
# m4a, MP3, AMR-NB, a two-channel WAV), into examples/calls/. Beside each
# call it writes its transcript, examples/transcripts/<call>.srt and .vtt
# (with <v SPEAKER> voice tags), timed from the synthesised turns, so the
# example run can show language findings without a speech model.
#   examples/make-examples.sh [OUTDIR]   (default: examples/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
calls="$out/calls"; trs="$out/transcripts"; tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$calls" "$trs"
gap=0.6
sox -n -r 16000 -c 1 "$tmp/gap.wav" trim 0 $gap

srt_time() { python3 -c "import sys; t=float(sys.argv[1]); print('%02d:%02d:%02d%s%03d' % (t//3600, t//60%60, int(t)%60, sys.argv[2], round(t*1000)%1000))" "$1" "$2"; }

for call in $(grep -v '^#' "$here/conversations.txt" | cut -d'|' -f1 | uniq); do
  fmt=$(grep "^$call|" "$here/conversations.txt" | head -1 | cut -d'|' -f2)
  : > "$tmp/$call.srt"; printf 'WEBVTT\n\n' > "$tmp/$call.vtt"
  t=0; i=0; parts=(); left=(); right=()
  while IFS='|' read -r _ _ spk voice text; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    espeak-ng $voice -w "$tmp/raw$i.wav" "$text"
    sox "$tmp/raw$i.wav" -r 16000 -c 1 "$tmp/turn$i.wav"
    d=$(soxi -D "$tmp/turn$i.wav")
    sox -n -r 16000 -c 1 "$tmp/sil$i.wav" trim 0 "$d"
    end=$(python3 -c "print($t + $d)")
    printf '%d\n%s --> %s\n[%s] %s\n\n' $i "$(srt_time $t ,)" "$(srt_time $end ,)" "$spk" "$text" >> "$tmp/$call.srt"
    printf '%s --> %s\n<v %s>%s\n\n' "$(srt_time $t .)" "$(srt_time $end .)" "$spk" "$text" >> "$tmp/$call.vtt"
    parts+=("$tmp/turn$i.wav" "$tmp/gap.wav")
    if [ "$spk" = SPEAKER_00 ]; then left+=("$tmp/turn$i.wav" "$tmp/gap.wav"); right+=("$tmp/sil$i.wav" "$tmp/gap.wav")
    else left+=("$tmp/sil$i.wav" "$tmp/gap.wav"); right+=("$tmp/turn$i.wav" "$tmp/gap.wav"); fi
    t=$(python3 -c "print($end + $gap)")
  done < <(grep "^$call|" "$here/conversations.txt")
  sox "${parts[@]}" "$tmp/$call.wav"
  ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
  case $fmt in
    m4a) ff -i "$tmp/$call.wav" -c:a aac -b:a 48k "$calls/$call.m4a" ;;
    mp3) ff -i "$tmp/$call.wav" -c:a libmp3lame -b:a 48k "$calls/$call.mp3" ;;
    amr) sox "$tmp/$call.wav" -r 8000 -c 1 -t amr-nb "$calls/$call.amr" ;;
    stereo)
      sox "${left[@]}" "$tmp/l.wav"; sox "${right[@]}" "$tmp/r.wav"
      sox -M "$tmp/l.wav" "$tmp/r.wav" "$calls/$call.wav" ;;
  esac
  cp "$tmp/$call.srt" "$tmp/$call.vtt" "$trs/"
done
echo "examples: $(ls "$calls" | wc -l) calls in $calls, transcripts in $trs"
