"""Call recording: stereo WAV with a direction per channel, media browser, record-all, retention."""

from __future__ import annotations

from datetime import timedelta
import os
from pathlib import Path
import time
import wave

import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.cloud_sip_ua.cloudsipua.calls import (
    Call,
    CallDirection,
    CallState,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.const import (
    CONF_RECORD_ALL_CALLS,
    CONF_RECORDING_RETENTION_COUNT,
    CONF_RECORDING_RETENTION_DAYS,
)
from custom_components.cloud_sip_ua.intercom.recording import (
    CallRecording,
    apply_retention,
    recording_name,
    recordings_dir,
)
from emulator import Emulator
from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from tests.audio_check import tone_pcm, tone_report
from tests.waiting import wait_until

from .helpers import action, collect_call_audio, wait_connected


@pytest.fixture(autouse=True)
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Point the local media folder at the test's folder (in place: media_source keeps the dict)."""
    folder = tmp_path / "media"
    hass.config.media_dirs["local"] = str(folder)
    return folder


def read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the left and right channels of a WAV file."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 2
        assert wav.getsampwidth() == 2
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return samples[0::2], samples[1::2], rate


async def test_recording_has_one_direction_per_channel(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
) -> None:
    """Left carries the caller's 440 Hz, right the 1 kHz Home Assistant sends; browsable."""
    call = await emulator.ring(tone_hz=440.0)
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    started = await action(hass, "start_recording")
    again = await action(hass, "start_recording")
    assert again == started
    path = Path(started["file"])
    assert path.parent == media_dir / "cloud_sip_ua"
    media = init_integration.runtime_data.manager.media_of()
    await media.play_audio(tone_pcm(1000.0, 1.5, 8000), 8000)
    stopped = await action(hass, "stop_recording")
    assert stopped == started

    left, right, rate = read_stereo(path)
    assert rate == 8000
    assert left.size == right.size >= 1.5 * rate
    frequency, snr = tone_report(left[-rate:].tobytes(), rate)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 20, snr
    # The right channel: the 1 kHz tone, without the caller's 440 Hz.
    start = int(np.flatnonzero(right)[0])
    frequency, snr = tone_report(right[start : start + rate].tobytes(), rate)
    assert abs(frequency - 1000.0) <= 10, frequency
    assert snr >= 20, snr

    browsed = await media_source.async_browse_media(
        hass, "media-source://media_source/local/cloud_sip_ua"
    )
    ids = [child.media_content_id for child in browsed.children]
    assert started["media_content_id"] in ids

    with pytest.raises(ServiceValidationError):
        await action(hass, "stop_recording")
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")


async def test_record_every_call_option(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
) -> None:
    """With the option on, a connected call is recorded until it ends."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_RECORD_ALL_CALLS: True},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    recorder = mock_config_entry.runtime_data.intercom.recorder
    call = await emulator.ring(tone_hz=440.0)
    await action(hass, "answer")
    await wait_connected(mock_config_entry, emulator, call.call_id)
    call_id = mock_config_entry.runtime_data.manager.current_call.call_id
    await wait_until(lambda: recorder.is_recording(call_id))
    await collect_call_audio(mock_config_entry, 1.2)  # 1.2 s of the call go by
    await emulator.remote_hangup(call.call_id)
    await wait_until(lambda: not recorder.is_recording(call_id))
    await hass.async_block_till_done()
    files = list((media_dir / "cloud_sip_ua").iterdir())
    assert len(files) == 1
    left, _right, rate = read_stereo(files[0])
    frequency, _snr = tone_report(left[-rate // 2 :].tobytes(), rate)
    assert abs(frequency - 440.0) <= 10


async def test_recording_actions_need_a_connected_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
) -> None:
    """No call, or a folder that cannot be created: translated errors."""
    with pytest.raises(ServiceValidationError):
        await action(hass, "start_recording")
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    media_dir.mkdir()
    (media_dir / "cloud_sip_ua").write_text("a file where the folder should be")
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "start_recording")
    assert err.value.translation_key == "recording_failed"
    await action(hass, "hang_up")


def _touch(path: Path, age_days: float) -> Path:
    """Create a file and set its modification time `age_days` back."""
    path.write_bytes(b"RIFF")
    stamp = time.time() - age_days * 86400
    os.utime(path, (stamp, stamp))
    return path


def test_retention_deletes_only_old_own_recordings(tmp_path: Path) -> None:
    """Age and count limits apply to our recordings only; other files stay."""
    ours = [
        _touch(
            tmp_path / f"call-20260101-0000{i:02d}-{i:08x}-1234567.wav", age_days=i * 10
        )
        for i in range(6)
    ]
    foreign = [
        _touch(tmp_path / "holiday.wav", 400),
        _touch(tmp_path / "call-notes.wav", 400),
        _touch(tmp_path / "call-20260101-000000-0000000a.mp3", 400),
    ]
    (
        tmp_path / "call-20260101-000000-0000000b.wav"
    ).mkdir()  # a folder, not a recording
    running = ours[0]

    deleted = apply_retention(
        tmp_path,
        max_age_days=35,
        max_count=0,
        now=time.time(),
        spare=frozenset({running}),
    )
    assert sorted(deleted) == sorted(ours[4:])
    deleted = apply_retention(
        tmp_path,
        max_age_days=0,
        max_count=2,
        now=time.time(),
        spare=frozenset({running}),
    )
    assert deleted == [ours[3]]
    assert all(path.exists() for path in (*ours[:3], *foreign))
    assert (
        apply_retention(tmp_path / "missing", max_age_days=1, max_count=1, now=0) == []
    )


async def test_retention_runs_with_the_entry_options(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, media_dir: Path
) -> None:
    """Setting up the entry applies the configured limits to the recordings folder."""
    folder = media_dir / "cloud_sip_ua"
    folder.mkdir(parents=True)
    old = _touch(folder / "call-20250101-000000-00000001.wav", 10)
    new = _touch(folder / "call-20260101-000000-00000002.wav", 1)
    other = _touch(folder / "readme.txt", 100)
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            **mock_config_entry.options,
            CONF_RECORDING_RETENTION_DAYS: 5,
            CONF_RECORDING_RETENTION_COUNT: 0,
        },
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert not old.exists()
    assert new.exists() and other.exists()
    assert recordings_dir(hass) == folder


def test_recording_name_is_safe() -> None:
    """Caller ids cannot smuggle path parts into the file name."""
    call = Call(
        call_id="0123456789abcdef",
        direction=CallDirection.INCOMING,
        state=CallState.CONNECTED,
        codec=Codec.PCMA,
        remote_party="../../etc/passwd",
    )
    name = recording_name(call, dt_util.parse_datetime("2026-01-02T03:04:05+00:00"))
    assert name == "call-20260102-030405-01234567-______etc_passwd.wav"
    call.remote_party = None
    assert recording_name(call, dt_util.now()).endswith("-01234567.wav")


async def test_recording_caps_its_length_and_stops_once(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording stops growing at its cap; stopping twice is harmless."""
    monkeypatch.setattr(
        "custom_components.cloud_sip_ua.intercom.recording.MAX_SECONDS", 0.04
    )
    taps: list[object] = []

    class Media:
        def add_tap(self, tap: object) -> object:
            taps.append(tap)
            return lambda: taps.remove(tap)

    path = tmp_path / "sub" / "call-20260101-000000-00000001.wav"
    recording = CallRecording(hass, Media(), path)  # type: ignore[arg-type]
    await recording.start()
    await recording._flush()  # noqa: SLF001 - nothing gathered yet: nothing written
    for _ in range(5):
        taps[0](b"\x01\x00" * 160, None)  # type: ignore[operator]
    assert await recording.stop() == path
    assert await recording.stop() == path
    assert not taps
    left, right, _rate = read_stereo(path)
    assert left.size == 320
    assert not right.any()


async def test_record_all_with_a_broken_folder_then_unload(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A folder that cannot be made is logged; unloading closes a running recording."""
    media_dir.mkdir()
    (media_dir / "cloud_sip_ua").write_text("in the way")
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_RECORD_ALL_CALLS: True},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    call = await emulator.ring(tone_hz=440.0)
    await action(hass, "answer")
    await wait_connected(mock_config_entry, emulator, call.call_id)
    await wait_until(lambda: "Cannot record call" in caplog.text)
    (media_dir / "cloud_sip_ua").unlink()
    started = await action(hass, "start_recording")
    # Half a second of the call goes into the recording.
    await collect_call_audio(mock_config_entry, 0.5)
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    left, _right, _rate = read_stereo(Path(started["file"]))
    assert left.size > 0


async def test_retention_runs_periodically(
    hass: HomeAssistant, init_integration: MockConfigEntry, media_dir: Path
) -> None:
    """Every few hours retention runs again."""
    folder = media_dir / "cloud_sip_ua"
    folder.mkdir(parents=True)
    old = _touch(folder / "call-20250101-000000-00000001.wav", 400)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=7))
    await hass.async_block_till_done()
    # The deletion runs in the executor: give a loaded machine a moment.
    await wait_until(lambda: not old.exists())
