"""Streaming filters: chunked output must equal whole-signal output; the filter must do its job."""

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from asha_app.dsp.filters import FilterSpec, RmsEnvelope, StreamingFilter, design_sos, filter_offline
from asha_app.dsp.quality import Flag, assess_channels

REPO = Path(__file__).resolve().parents[1]


def _chunks(x, sizes):
    i = 0
    k = 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        yield x[i : i + n]
        i += n
        k += 1


@pytest.mark.parametrize("sizes", [[1], [7], [50], [3, 1, 64, 0, 13], [997]])
@pytest.mark.parametrize("notch", [50.0, 60.0, None])
def test_chunked_filtering_equals_whole(sizes, notch):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 50, size=(2000, 8)) + 300.0  # electrode offset
    spec = FilterSpec(fs=500.0, notch_hz=notch)
    whole = filter_offline(x, spec)
    f = StreamingFilter(spec, 8)
    parts = [f.process(c) for c in _chunks(x, sizes)]
    chunked = np.vstack(parts)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-9)


def test_filter_is_causal():
    spec = FilterSpec(fs=500.0)
    x = np.zeros((1000, 1))
    y0 = filter_offline(x, spec)
    x[600] = 1000.0  # an impulse late in the signal must not change earlier outputs
    y1 = filter_offline(x, spec)
    np.testing.assert_array_equal(y0[:600], y1[:600])
    assert np.abs(y1[600:]).max() > 1.0


def test_bandpass_and_notch_attenuate_what_they_should():
    fs = 500.0
    t = np.arange(int(fs * 4)) / fs
    spec = FilterSpec(fs=fs, band=(20.0, 200.0), notch_hz=50.0)

    def gain(freq):
        y = filter_offline(np.sin(2 * np.pi * freq * t)[:, None], spec)[int(fs * 2) :]
        return np.sqrt(2 * np.mean(y**2))

    assert gain(100.0) > 0.9  # pass band
    assert gain(5.0) < 0.05  # motion artefact band
    assert gain(50.0) < 0.05  # mains
    assert gain(240.0) < 0.3  # above the high edge


def test_design_rejects_bad_band():
    with pytest.raises(ValueError, match="low edge"):
        design_sos(FilterSpec(fs=500.0, band=(300.0, 400.0)))
    with pytest.raises(ValueError, match="high edge"):
        design_sos(FilterSpec(fs=500.0, band=(100.0, 50.0)))


def test_high_edge_above_nyquist_becomes_highpass():
    # Myo data at 200 Hz with the armband's default 20-200 Hz band
    sos = design_sos(FilterSpec(fs=200.0, band=(20.0, 200.0), notch_hz=50.0))
    w, h = signal.sosfreqz(sos, worN=[10.0, 80.0], fs=200.0)
    assert abs(h[0]) < 0.2 and abs(h[1]) > 0.8


def test_nan_samples_do_not_poison_the_state():
    spec = FilterSpec(fs=500.0)
    rng = np.random.default_rng(1)
    x = rng.normal(0, 20, size=(1000, 2))
    x[100, 0] = np.nan
    y = filter_offline(x, spec)
    assert np.isnan(y[100, 0])
    assert np.isfinite(y[101:, 0]).all() and np.isfinite(y[:, 1]).all()


def test_rms_envelope_chunked_equals_whole_and_is_correct():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 10, size=(500, 3))
    env = RmsEnvelope(500.0, 0.1, 3)
    whole = env.process(x)
    env.reset()
    chunked = np.vstack([env.process(c) for c in _chunks(x, [1, 17, 4, 100])])
    np.testing.assert_allclose(chunked, whole, atol=1e-9)
    i = 300
    np.testing.assert_allclose(whole[i], np.sqrt(np.mean(x[i - 49 : i + 1] ** 2, axis=0)), rtol=1e-9)
    np.testing.assert_allclose(whole[0], np.abs(x[0]), rtol=1e-9)


def test_quality_flags():
    fs = 500.0
    n = 500
    t = np.arange(n) / fs
    rng = np.random.default_rng(3)
    good = rng.normal(0, 40, n)
    flat = np.full(n, 12.0)
    railed = np.where(np.arange(n) % 2, 400_000.0, -400_000.0)
    mains = 500 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 5, n)
    noisy = rng.normal(0, 5000, n)
    nan = good.copy()
    nan[10] = np.nan
    raw = np.stack([good, flat, railed, mains, noisy, nan], axis=1)
    filt = filter_offline(np.nan_to_num(raw), FilterSpec(fs=fs))
    flags = assess_channels(raw, filt, fs, mains_hz=50.0)
    assert flags == [Flag.OK, Flag.FLAT, Flag.RAILED, Flag.MAINS, Flag.NOISY, Flag.NAN]


def test_one_euro_smooths_jitter_but_follows_motion():
    from asha_app.dsp.smoothing import OneEuroFilter

    rng = np.random.default_rng(4)
    t = np.arange(0, 4, 0.02)  # 50 Hz pose updates
    still = 10 + rng.normal(0, 1.0, len(t))
    f = OneEuroFilter(min_cutoff=1.0, beta=0.05)
    out = np.array([f(x, ti) for x, ti in zip(still, t)])
    assert np.std(out[50:]) < 0.4 * np.std(still[50:])  # jitter at rest is cut
    f.reset()
    ramp = 100 * t  # a fast movement, 100 units/s
    out = np.array([f(x, ti) for x, ti in zip(ramp, t)])
    lag = np.mean(ramp[100:] - out[100:]) / 100.0
    f_slow = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out_slow = np.array([f_slow(x, ti) for x, ti in zip(ramp, t)])
    lag_slow = np.mean(ramp[100:] - out_slow[100:]) / 100.0
    assert lag < 0.5 * lag_slow  # the speed term removes most of the lag a plain low-pass has


def test_a_channel_stuck_at_the_rail_is_railed_not_flat():
    fs, n = 500.0, 500
    rng = np.random.default_rng(5)
    raw = np.stack([rng.normal(0, 40, n), np.full(n, 400_000.0), np.full(n, -399_500.0), np.full(n, 12.0)], axis=1)
    filt = filter_offline(raw, FilterSpec(fs=fs))
    assert assess_channels(raw, filt, fs) == [Flag.OK, Flag.RAILED, Flag.RAILED, Flag.FLAT]
    # the same signals in millivolts are judged the same way (converted to microvolts first)
    assert assess_channels(raw / 1000.0, filt / 1000.0, fs, units="mV") == [Flag.OK, Flag.RAILED, Flag.RAILED, Flag.FLAT]


def test_quality_of_a_50_hz_session_in_minivie_units_is_not_flat():
    """The real paired Myo + MediaPipe slice (50 Hz, MiniVIE normalised units, values around 0.01): judged in
    microvolts every channel read as flat; judged in its own unit, live-like 1 s windows are fine, and a channel
    that really stops is still flat."""
    from asha_app.core.settings import FilterSettings
    from asha_app.data.importers.paired_myo_mediapipe import load_paired

    rec = load_paired(REPO / "tests" / "assets" / "paired_slice")
    assert rec.fs == 50.0 and "MiniVIE" in rec.emg_units
    spec = FilterSpec.from_settings(FilterSettings(), rec.fs)
    win = int(rec.fs)
    flags = []
    for i in range(0, len(rec.emg) - win, win):
        x = rec.emg[i:i + win].astype(float)
        flags += assess_channels(x, filter_offline(x, spec), rec.fs, units=rec.emg_units)
    share_ok = np.mean([f == Flag.OK for f in flags])
    assert share_ok > 0.95, share_ok
    x = rec.emg[:win].astype(float)
    assert set(assess_channels(x, filter_offline(x, spec), rec.fs, units="uV")) == {Flag.FLAT}  # the old mistake
    x[:, 2] = 0.01  # an electrode that stopped
    assert assess_channels(x, filter_offline(x, spec), rec.fs, units=rec.emg_units)[2] == Flag.FLAT


def test_noisy_needs_a_sampling_rate_that_separates_semg_from_movement():
    """At 50 Hz (envelopes, band under 20 Hz) the motion check is not made; at 500 Hz the same large signal is noisy."""
    rng = np.random.default_rng(6)
    for fs, expected in ((50.0, Flag.OK), (500.0, Flag.NOISY)):
        n = int(fs)
        raw = rng.normal(0, 5000, (n, 2))
        filt = rng.normal(0, 5000, (n, 2))
        assert assess_channels(raw, filt, fs, mains_hz=60.0) == [expected, expected]
