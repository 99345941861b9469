# pitch_frames.praat — Praat's pitch track frame by frame, for debugging:
#   praat --run pitch_frames.praat FILE.wav 75 600
# Prints "time f0" per frame (f0 0 when unvoiced).
form Pitch frames
  sentence file
  real floor 75
  real ceiling 600
endform
s = Read from file: file$
p = To Pitch: 0, floor, ceiling
n = Get number of frames
writeInfo: ""
for i to n
  t = Get time from frame number: i
  f = Get value in frame: i, "Hertz"
  if f = undefined
    f = 0
  endif
  appendInfoLine: fixed$(t, 6), " ", fixed$(f, 4)
endfor
