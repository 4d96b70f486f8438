"""The download layer against a real HTTP server on 127.0.0.1: success, resume, retries,
checksum and HTTP errors, mirror, local sources, offline mode."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from encode_server import FakeEncode
from seq2func.cli import main
from seq2func.download import DownloadError, DownloadSettings, FileSpec
from seq2func.download.fetch import fetch
from seq2func.download.sources import download_name, find_in_mirror, missing_offline, parse_source

DATA = bytes(range(256)) * 4000  # 1 MB, every byte value


@pytest.fixture()
def server():
    s = FakeEncode()
    yield s
    s.close()


def settings(server: FakeEncode, **kw) -> DownloadSettings:
    base = {"encode_url": server.url, "retries": 3, "backoff_s": 0.01, "max_backoff_s": 0.02,
            "timeout_s": 10.0, "chunk_bytes": 65536}
    base.update(kw)
    return DownloadSettings.from_config(base)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def provenance(path: Path) -> dict:
    return json.loads(Path(str(path) + ".provenance.json").read_text())["download"]


def test_encode_accession_success_records_provenance(server: FakeEncode, tmp_path: Path) -> None:
    blob = server.add_encode_file("TSTFF000AAA", "bigWig", DATA, output_type="signal p-value")
    dest = tmp_path / "TSTFF000AAA.bigWig"
    rec = fetch(FileSpec("TSTFF000AAA"), dest, settings(server), role="signal")
    assert dest.read_bytes() == DATA
    assert not Path(str(dest) + ".part").exists()
    # the download went through ENCODE's redirect to the blob store
    assert server.requests_for(blob) == [None]
    side = provenance(dest)
    assert side == json.loads(json.dumps(rec))
    assert side["md5"] == md5(DATA) and side["bytes"] == len(DATA)
    assert side["accession"] == "TSTFF000AAA" and side["assembly"] == "GRCh38"
    assert side["url"] == server.url + "/files/TSTFF000AAA/@@download/TSTFF000AAA.bigWig"
    assert side["md5_expected_from"] == "ENCODE metadata" and side["verified"] is True
    assert side["via"] == "network" and side["retrieved_utc"].endswith("Z")
    assert side["encode"]["output_type"] == "signal p-value"
    assert side["encode"]["biosample"] == "K562"


def test_resume_after_truncated_transfer(server: FakeEncode, tmp_path: Path) -> None:
    blob = server.add_encode_file("TSTFF000AAB", "bed.gz", DATA)
    dest = tmp_path / "peaks.bed.gz"
    # an earlier run stopped after 300,000 bytes
    Path(str(dest) + ".part").write_bytes(DATA[:300_000])
    rec = fetch(FileSpec("TSTFF000AAB"), dest, settings(server))
    assert dest.read_bytes() == DATA
    assert server.requests_for(blob) == ["bytes=300000-"]
    assert rec["transfer"]["resumed_from"] == [300_000]
    assert rec["transfer"]["bytes_received"] == len(DATA) - 300_000


def test_connection_dropped_mid_transfer_is_retried_and_resumed(server: FakeEncode,
                                                                tmp_path: Path) -> None:
    blob = server.add_encode_file("TSTFF000AAC", "tsv", DATA)
    server.then(blob, "drop:200000", "drop:100000")
    dest = tmp_path / "q.tsv"
    rec = fetch(FileSpec("TSTFF000AAC"), dest, settings(server))
    assert dest.read_bytes() == DATA
    ranges = server.requests_for(blob)
    assert ranges[0] is None and len(ranges) == 3
    # every retry resumes from the bytes already on disk
    assert ranges[1] == f"bytes={rec['transfer']['resumed_from'][0]}-"
    assert rec["transfer"]["attempts"] == 3 and rec["md5"] == md5(DATA)


def test_stalled_transfer_times_out_and_resumes(server: FakeEncode, tmp_path: Path) -> None:
    blob = server.add_encode_file("TSTFF000AAK", "bigWig", DATA)
    server.then(blob, "stall:300000")
    rec = fetch(FileSpec("TSTFF000AAK"), tmp_path / "s.bigWig",
                settings(server, timeout_s=0.3))
    assert (tmp_path / "s.bigWig").read_bytes() == DATA
    ranges = server.requests_for(blob)
    assert ranges[0] is None and ranges[1] == f"bytes={rec['transfer']['resumed_from'][0]}-"
    assert rec["transfer"]["resumed_from"][0] > 0


def test_server_ignoring_range_starts_over(server: FakeEncode, tmp_path: Path) -> None:
    url = server.add_blob("/data/genes.gtf.gz", DATA)
    server.then("/data/genes.gtf.gz", "norange")
    dest = tmp_path / "genes.gtf.gz"
    Path(str(dest) + ".part").write_bytes(b"garbage that is not the start of the file")
    rec = fetch(FileSpec(url, md5(DATA)), dest, settings(server))
    assert dest.read_bytes() == DATA and rec["transfer"]["restarts"] == 1


def test_checksum_mismatch_is_an_error_and_leaves_no_file(server: FakeEncode,
                                                           tmp_path: Path) -> None:
    url = server.add_blob("/data/blacklist.bed.gz", DATA)
    dest = tmp_path / "blacklist.bed.gz"
    with pytest.raises(DownloadError, match="md5 mismatch") as err:
        fetch(FileSpec(url, "0" * 32), dest, settings(server))
    assert "expected 00000000" in str(err.value)
    assert sorted(os.listdir(tmp_path)) == []


def test_encode_md5_mismatch_after_resume_retries_from_scratch(server: FakeEncode,
                                                                 tmp_path: Path) -> None:
    blob = server.add_encode_file("TSTFF000AAD", "bigWig", DATA)
    dest = tmp_path / "x.bigWig"
    # a stale partial file from another version: resumed data would be corrupt
    Path(str(dest) + ".part").write_bytes(b"\x00" * 1000)
    rec = fetch(FileSpec("TSTFF000AAD"), dest, settings(server))
    assert dest.read_bytes() == DATA
    assert server.requests_for(blob) == ["bytes=1000-", None]
    assert rec["transfer"]["restarts"] >= 1


def test_size_mismatch_with_metadata_is_an_error(server: FakeEncode, tmp_path: Path) -> None:
    server.add_encode_file("TSTFF000AAE", "bigWig", DATA, file_size=len(DATA) + 5)
    with pytest.raises(DownloadError, match=r"bytes but .* were expected"):
        fetch(FileSpec("TSTFF000AAE"), tmp_path / "x.bigWig", settings(server))
    assert not list(tmp_path.iterdir())


def test_404_is_a_clear_error_without_retries(server: FakeEncode, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as err:
        fetch(FileSpec(server.url + "/data/missing.bed.gz"), tmp_path / "m.bed.gz",
              settings(server))
    msg = str(err.value)
    assert "HTTP 404" in msg and "/data/missing.bed.gz" in msg and "fix:" in msg
    assert len(server.requests_for("/data/missing.bed.gz")) == 1
    assert not list(tmp_path.iterdir())


def test_unknown_encode_accession_is_a_clear_error(server: FakeEncode, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"TSTFF999ZZZ: HTTP 404 .*format=json"):
        fetch(FileSpec("TSTFF999ZZZ"), tmp_path / "x", settings(server))


def test_500_is_retried_then_fails_with_the_count(server: FakeEncode, tmp_path: Path) -> None:
    url = server.add_blob("/data/a.tsv", DATA)
    server.then("/data/a.tsv", *["500"] * 10)
    with pytest.raises(DownloadError, match=r"gave up .* after 4 failed attempts"):
        fetch(FileSpec(url), tmp_path / "a.tsv", settings(server, retries=3))
    assert len(server.requests_for("/data/a.tsv")) == 4


def test_transient_500_then_success(server: FakeEncode, tmp_path: Path) -> None:
    url = server.add_blob("/data/b.tsv", DATA)
    server.then("/data/b.tsv", "500", "503")
    rec = fetch(FileSpec(url), tmp_path / "b.tsv", settings(server))
    assert (tmp_path / "b.tsv").read_bytes() == DATA
    assert rec["verified"] is False and rec["md5"] == md5(DATA)


def test_wrong_assembly_is_refused_before_downloading(server: FakeEncode,
                                                      tmp_path: Path) -> None:
    blob = server.add_encode_file("TSTFF000AAF", "bigWig", DATA, assembly="hg19")
    with pytest.raises(DownloadError, match=r"assembly 'hg19'.*'GRCh38'"):
        fetch(FileSpec("TSTFF000AAF"), tmp_path / "x.bigWig", settings(server))
    assert server.requests_for(blob) == []


def test_revoked_encode_file_is_refused(server: FakeEncode, tmp_path: Path) -> None:
    server.add_encode_file("TSTFF000AAJ", "bigWig", DATA, status="revoked")
    with pytest.raises(DownloadError, match="ENCODE has revoked this file"):
        fetch(FileSpec("TSTFF000AAJ"), tmp_path / "x.bigWig", settings(server))


def test_body_is_saved_byte_exact_even_with_content_encoding(server: FakeEncode,
                                                             tmp_path: Path) -> None:
    import gzip as gz

    payload = gz.compress(DATA, mtime=0)
    url = server.add_blob("/data/c.bed.gz", payload)
    server.encoding["/data/c.bed.gz"] = "gzip"  # a server that mislabels .gz files
    fetch(FileSpec(url, md5(payload)), tmp_path / "c.bed.gz", settings(server))
    assert (tmp_path / "c.bed.gz").read_bytes() == payload
    assert server.headers_for("/data/c.bed.gz")[0]["Accept-Encoding"] == "identity"


def test_configured_md5_must_agree_with_encode(server: FakeEncode, tmp_path: Path) -> None:
    server.add_encode_file("TSTFF000AAG", "tsv", DATA)
    with pytest.raises(DownloadError, match="differs from ENCODE"):
        fetch(FileSpec("TSTFF000AAG", "1" * 32), tmp_path / "x.tsv", settings(server))


def test_local_path_and_file_url(tmp_path: Path) -> None:
    src = tmp_path / "in" / "peaks file.bed"
    src.parent.mkdir()
    src.write_bytes(DATA)
    s = DownloadSettings.from_config({"offline": True})
    rec = fetch(FileSpec(str(src), md5(DATA)), tmp_path / "a.bed", s)
    assert (tmp_path / "a.bed").read_bytes() == DATA and rec["via"] == "local"
    assert rec["verified"] is True
    fetch(FileSpec(src.as_uri()), tmp_path / "b.bed", s)
    assert (tmp_path / "b.bed").read_bytes() == DATA
    with pytest.raises(DownloadError, match="does not exist"):
        fetch(FileSpec(str(tmp_path / "nope.bed")), tmp_path / "c.bed", s)
    with pytest.raises(DownloadError, match="md5 mismatch"):
        fetch(FileSpec(str(src), "f" * 32), tmp_path / "d.bed", s)
    assert not (tmp_path / "d.bed").exists()


def test_a_local_source_is_copied_so_touching_the_download_leaves_it_alone(
        tmp_path: Path) -> None:
    """Snakemake sets the times of a job's outputs: on a hard link they would be the user's
    file's, which would then look newer than its download at every run."""
    src = tmp_path / "signal.bw"
    src.write_bytes(DATA)
    os.utime(src, (1_000_000_000, 1_000_000_000))
    s = DownloadSettings.from_config({"offline": True})
    rec = fetch(FileSpec(str(src)), tmp_path / "downloads" / "signal.bw", s)
    dest = tmp_path / "downloads" / "signal.bw"
    assert rec["how"] == "copy" and not os.path.samefile(src, dest)
    os.utime(dest)  # what Snakemake does after the job
    assert src.stat().st_mtime == 1_000_000_000


def test_mirror_is_used_without_network(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "ENCFF356LFX.bed.gz").write_bytes(DATA)  # fetched by hand, ENCODE's name
    s = DownloadSettings.from_config({"encode_url": "http://127.0.0.1:9", "mirror": str(mirror),
                                    "offline": True})
    rec = fetch(FileSpec("ENCFF356LFX", md5(DATA)), tmp_path / "dl" / "ENCFF356LFX.bed.gz", s)
    assert rec["via"] == "mirror" and rec["verified"]
    # a mirror made from another checkout's downloads/ carries provenance with the md5
    dl = tmp_path / "dl"
    s2 = DownloadSettings.from_config({"mirror": str(dl), "offline": True})
    rec2 = fetch(FileSpec("ENCFF356LFX"), tmp_path / "dl2" / "ENCFF356LFX.bed.gz", s2)
    assert rec2["md5_expected_from"] == "mirror provenance"
    assert rec2["original"]["md5"] == md5(DATA)
    # a corrupt mirror copy is refused
    (mirror / "ENCFF356LFX.bed.gz").write_bytes(DATA[:-1] + b"!")
    with pytest.raises(DownloadError, match="mirrored copy"):
        fetch(FileSpec("ENCFF356LFX", md5(DATA)), tmp_path / "dl3" / "x.bed.gz", s)


def test_offline_without_mirror_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="offline mode and no mirror is set"):
        fetch(FileSpec("ENCFF356LFX"), tmp_path / "x.bed.gz",
              DownloadSettings.from_config({"offline": True}))


def test_missing_offline_lists_every_missing_file(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "ENCFF333TAT.bed.gz").write_bytes(b"x")
    local = tmp_path / "expr.tsv"
    local.write_text("x")
    dl = tmp_path / "downloads"
    dl.mkdir()
    (dl / "genes.gtf.gz").write_text("already fetched")
    files = {
        "ENCFF333TAT.bed.gz": FileSpec("ENCFF333TAT"),
        "ENCFF357GNC.bigWig": FileSpec("ENCFF357GNC"),
        "genes.gtf.gz": FileSpec("https://example.org/genes.gtf.gz"),
        "hg38.fa.gz": FileSpec("https://example.org/hg38.fa.gz"),
        "expr.tsv": FileSpec(str(local)),
        "gone.tsv": FileSpec(str(tmp_path / "gone.tsv")),
    }
    missing = missing_offline(files, str(mirror), dl)
    assert [m.split(":")[0] for m in missing] == ["ENCFF357GNC.bigWig", "hg38.fa.gz",
                                                  "gone.tsv"]
    assert "not in mirror" in missing[0]


def test_parse_source_and_names() -> None:
    assert parse_source("ENCFF356LFX").kind == "encode"
    ref = parse_source("encode:GRCh38_no_alt_analysis_set_GCA_000001405.15")
    assert ref.kind == "encode" and ref.accession.startswith("GRCh38_no_alt")
    assert parse_source("https://x.org/a/b.gtf.gz").kind == "url"
    assert parse_source("file:///data/x%20y.bw").path == Path("/data/x y.bw")
    assert parse_source("data/x.bw").kind == "local"
    with pytest.raises(ValueError, match="unsupported URL scheme"):
        parse_source("ftp://x.org/a.gz")
    assert download_name("ENCFF357GNC", ".bigWig") == "ENCFF357GNC.bigWig"
    assert download_name("https://x.org/r/gencode.v29.annotation.gtf.gz?x=1", ".gtf.gz") == \
        "gencode.v29.annotation.gtf.gz"
    with pytest.raises(ValueError, match="32 hex"):
        FileSpec("ENCFF356LFX", "abc")
    assert FileSpec.from_config({"source": "ENCFF356LFX", "md5": "A" * 32}).md5 == "a" * 32


def test_find_in_mirror_ignores_sidecars(tmp_path: Path) -> None:
    (tmp_path / "ENCFF111AAA.bigWig.provenance.json").write_text("{}")
    (tmp_path / "ENCFF111AAA.bigWig.part").write_text("x")
    assert find_in_mirror(tmp_path, "ENCFF111AAA", "ENCFF111AAA.bigWig") is None
    (tmp_path / "ENCFF111AAA.bw").write_text("x")
    assert find_in_mirror(tmp_path, "ENCFF111AAA", "ENCFF111AAA.bigWig").name == \
        "ENCFF111AAA.bw"


def test_cli_fetch(server: FakeEncode, tmp_path: Path, capsys) -> None:
    server.add_encode_file("TSTFF000AAH", "bed.gz", DATA)
    s = json.dumps({"encode_url": server.url, "retries": 1, "backoff_s": 0.01})
    out = tmp_path / "p.bed.gz"
    assert main(["fetch", "--source", "TSTFF000AAH", "--output", str(out), "--settings", s,
                 "--role", "peaks"]) == 0
    assert out.read_bytes() == DATA and provenance(out)["role"] == "peaks"
    assert main(["fetch", "--source", "TSTFF999ZZZ", "--output", str(tmp_path / "q"),
                 "--settings", s]) == 2
    assert "HTTP 404" in capsys.readouterr().err
