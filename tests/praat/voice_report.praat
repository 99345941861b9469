# voice_report.praat — the reference numbers voiceman's voice measures are
# compared with. Run headless:
#   praat --run voice_report.praat FILE.wav 75 600
# Prints one "key=value" line per measure ("--undefined--" when Praat
# cannot compute it). Every command uses Praat's standard defaults except
# the pitch range, which the caller gives.
form Voice report
  sentence file
  real floor 75
  real ceiling 600
endform
s = Read from file: file$
dur = Get total duration
writeInfoLine: "duration=", dur

selectObject: s
p = To Pitch: 0, floor, ceiling
nf = Get number of frames
nv = Count voiced frames
appendInfoLine: "pitch_frames=", nf
appendInfoLine: "pitch_voiced=", nv
v1 = Get mean: 0, 0, "Hertz"
appendInfoLine: "f0_mean=", v1
v2 = Get quantile: 0, 0, 0.5, "Hertz"
appendInfoLine: "f0_median=", v2
v3 = Get standard deviation: 0, 0, "Hertz"
appendInfoLine: "f0_sd=", v3
v4 = Get minimum: 0, 0, "Hertz", "Parabolic"
appendInfoLine: "f0_min=", v4
v5 = Get maximum: 0, 0, "Hertz", "Parabolic"
appendInfoLine: "f0_max=", v5

selectObject: s, p
pp = To PointProcess (cc)
np = Get number of points
appendInfoLine: "pulses=", np
v6 = Get jitter (local): 0, 0, 0.0001, 0.02, 1.3
appendInfoLine: "jitter_local=", v6
v7 = Get jitter (local, absolute): 0, 0, 0.0001, 0.02, 1.3
appendInfoLine: "jitter_local_abs=", v7
v8 = Get jitter (rap): 0, 0, 0.0001, 0.02, 1.3
appendInfoLine: "jitter_rap=", v8
v9 = Get jitter (ppq5): 0, 0, 0.0001, 0.02, 1.3
appendInfoLine: "jitter_ppq5=", v9
selectObject: s, pp
v10 = Get shimmer (local): 0, 0, 0.0001, 0.02, 1.3, 1.6
appendInfoLine: "shimmer_local=", v10
v11 = Get shimmer (local_dB): 0, 0, 0.0001, 0.02, 1.3, 1.6
appendInfoLine: "shimmer_local_db=", v11
v12 = Get shimmer (apq3): 0, 0, 0.0001, 0.02, 1.3, 1.6
appendInfoLine: "shimmer_apq3=", v12
v13 = Get shimmer (apq5): 0, 0, 0.0001, 0.02, 1.3, 1.6
appendInfoLine: "shimmer_apq5=", v13
v14 = Get shimmer (apq11): 0, 0, 0.0001, 0.02, 1.3, 1.6
appendInfoLine: "shimmer_apq11=", v14

selectObject: s
h = To Harmonicity (cc): 0.01, 75, 0.1, 1.0
v15 = Get mean: 0, 0
appendInfoLine: "hnr_mean=", v15

selectObject: s
f = To Formant (burg): 0, 5, 5500, 0.025, 50
v16 = Get mean: 1, 0, 0, "hertz"
appendInfoLine: "f1_mean=", v16
v17 = Get mean: 2, 0, 0, "hertz"
appendInfoLine: "f2_mean=", v17
v18 = Get mean: 3, 0, 0, "hertz"
appendInfoLine: "f3_mean=", v18

selectObject: s
i = To Intensity: 100, 0, "yes"
v19 = Get mean: 0, 0, "energy"
appendInfoLine: "intensity_mean=", v19
v20 = Get maximum: 0, 0, "Parabolic"
appendInfoLine: "intensity_max=", v20

# Formant means over pitch-voiced frames only (what voiceman reports).
selectObject: f
nff = Get number of frames
for k to 3
  sum'k' = 0
  cnt'k' = 0
endfor
for j to nff
  selectObject: f
  tt = Get time from frame number: j
  selectObject: p
  pv = Get value at time: tt, "Hertz", "Linear"
  if pv <> undefined
    selectObject: f
    for k to 3
      fk = Get value at time: k, tt, "hertz", "Linear"
      if fk <> undefined
        sum'k' = sum'k' + fk
        cnt'k' = cnt'k' + 1
      endif
    endfor
  endif
endfor
for k to 3
  if cnt'k' > 0
    appendInfoLine: "f", k, "_voiced_mean=", sum'k' / cnt'k'
  else
    appendInfoLine: "f", k, "_voiced_mean=--undefined--"
  endif
endfor
