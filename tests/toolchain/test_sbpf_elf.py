"""Structure of the SBPF v0 shared objects tools/sbpf writes, and the linker's refusals."""
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from .sbpf_run import ROOT

sys.path.insert(0, str(ROOT / "tools" / "sbpf" / "ld"))
import sbpf_elf  # noqa: E402

PROGRAMS = [ROOT / "target" / "deploy" / "job_escrow.so", ROOT / "target" / "sbpf-tests" / "sbpf_gaps.so"]
EXPECTED_SECTIONS = [".text", ".rodata", ".dynamic", ".dynsym", ".dynstr", ".rel.dyn", ".shstrtab"]


def parse(path: Path):
    raw = path.read_bytes()
    e_type, e_machine, _, e_entry, e_phoff, e_shoff = struct.unpack_from("<HHIQQQ", raw, 16)
    e_phnum, _, e_shnum, e_shstrndx = struct.unpack_from("<HHHH", raw, 56)
    shdrs = [struct.unpack_from("<IIQQQQIIQQ", raw, e_shoff + 64 * i) for i in range(e_shnum)]
    strtab = raw[shdrs[e_shstrndx][4]:]
    sections = {}
    for h in shdrs[1:]:
        name = strtab[h[0]:strtab.index(b"\0", h[0])].decode()
        sections[name] = dict(type=h[1], flags=h[2], addr=h[3], offset=h[4], size=h[5])
    phdrs = [struct.unpack_from("<IIQQQQQQ", raw, e_phoff + 56 * i) for i in range(e_phnum)]
    return raw, dict(type=e_type, machine=e_machine, entry=e_entry), sections, phdrs


@pytest.fixture(params=PROGRAMS, ids=lambda p: p.name)
def elf(request):
    if not request.param.exists():
        pytest.fail(f"{request.param} is missing: run `make programs`")
    return parse(request.param)


def test_header_sections_and_segments(elf):
    raw, hdr, sections, phdrs = elf
    assert raw[:6] == b"\x7fELF\x02\x01"  # ELF64, little-endian
    assert hdr["type"] == 3 and hdr["machine"] == 247  # ET_DYN, EM_BPF
    assert list(sections) == EXPECTED_SECTIONS
    text = sections[".text"]
    assert text["addr"] <= hdr["entry"] < text["addr"] + text["size"] and hdr["entry"] % 8 == 0
    for name, s in sections.items():
        assert not s["flags"] & 0x1, f"{name} is writable: SBPF v0 has no writable data"
        if s["flags"] & 0x2:  # allocated sections sit at vaddr == file offset
            assert s["addr"] == s["offset"], name
    loads = [p for p in phdrs if p[0] == 1]
    assert loads[0][1] == 5  # R+X: text and rodata
    assert loads[0][2] == text["offset"]
    assert loads[0][2] + loads[0][5] == sections[".rodata"]["offset"] + sections[".rodata"]["size"]
    assert any(p[0] == 2 for p in phdrs)  # PT_DYNAMIC


def instructions(raw, text):
    for pc in range(text["offset"], text["offset"] + text["size"], 8):
        opc, regs, off, imm = struct.unpack_from("<BBhi", raw, pc)
        yield pc, opc, regs, off, imm


def test_code_is_sbpf_v0(elf):
    raw, _, sections, _ = elf
    text = sections[".text"]
    starts = set()
    lddw_tail = set()
    for pc, opc, regs, off, imm in instructions(raw, text):
        if pc in lddw_tail:
            assert opc == 0 and regs == 0, "second slot of lddw must be empty"
            continue
        starts.add(pc)
        assert opc & 0x07 != 0x06, f"JMP32 instruction at 0x{pc:x}: not in SBPF v0"
        if opc == 0x18:
            lddw_tail.add(pc + 8)
        if opc == 0x8D:  # callx: register in imm, nothing in the register byte
            assert regs == 0 and 0 <= imm <= 10, f"callx at 0x{pc:x} not in v0 form"
    calls = 0
    for pc, opc, regs, off, imm in instructions(raw, text):
        if opc == 0x85 and imm != -1 and pc in starts:
            target = pc + 8 * (imm + 1)
            assert target in starts, f"call at 0x{pc:x} lands mid-instruction or outside .text"
            calls += 1
    assert calls > 10


def test_syscalls_are_dynamic_relocations_on_call_sites(elf):
    raw, _, sections, _ = elf
    dynsym, dynstr, rel = sections[".dynsym"], sections[".dynstr"], sections[".rel.dyn"]
    names = []
    for k in range(1, dynsym["size"] // 24):
        st_name = struct.unpack_from("<I", raw, dynsym["offset"] + 24 * k)[0]
        start = dynstr["offset"] + st_name
        names.append(raw[start:raw.index(b"\0", start)].decode())
    assert set(names) <= sbpf_elf.SOLANA_SYSCALLS
    assert {"sol_log_", "sol_memcpy_"} <= set(names)
    assert rel["size"] > 0
    for k in range(rel["size"] // 16):
        off, info = struct.unpack_from("<QQ", raw, rel["offset"] + 16 * k)
        assert info & 0xFFFFFFFF == 10  # R_BPF_64_32
        assert 1 <= info >> 32 <= len(names)
        opc, _, _, imm = struct.unpack_from("<BBhi", raw, off)
        assert opc == 0x85 and imm == -1, f"syscall relocation at 0x{off:x} is not on `call -1`"


# ---- the linker refuses what SBPF cannot run --------------------------------------------------
LL_HEAD = 'target datalayout = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"\ntarget triple = "bpfel"\n'


def build_object(tmp_path: Path, ir: str) -> Path:
    ll, obj = tmp_path / "t.ll", tmp_path / "t.o"
    ll.write_text(LL_HEAD + ir)
    subprocess.run(["llc-22", "-march=bpfel", "-mcpu=v2", "-function-sections", "-data-sections",
                    "-filetype=obj", str(ll), "-o", str(obj)], check=True)
    return obj


def test_links_a_minimal_program(tmp_path):
    obj = build_object(tmp_path, """
@msg = private constant [2 x i8] c"ok"
declare void @sol_log_(ptr, i64)
define i64 @entrypoint(ptr %in) {
  call void @sol_log_(ptr @msg, i64 2)
  ret i64 0
}
""")
    stats = sbpf_elf.link(str(obj), str(tmp_path / "p.so"))
    assert stats.syscalls == ["sol_log_"] and stats.functions == 1


def test_refuses_writable_statics(tmp_path):
    obj = build_object(tmp_path, """
@counter = global i64 0
define i64 @entrypoint(ptr %in) {
  %v = load i64, ptr @counter
  %n = add i64 %v, 1
  store i64 %n, ptr @counter
  ret i64 0
}
""")
    with pytest.raises(sbpf_elf.LinkError, match="writable statics: counter"):
        sbpf_elf.link(str(obj), str(tmp_path / "p.so"))


def test_refuses_calls_to_unknown_externals(tmp_path):
    obj = build_object(tmp_path, """
declare void @not_a_syscall()
define i64 @entrypoint(ptr %in) {
  call void @not_a_syscall()
  ret i64 0
}
""")
    with pytest.raises(sbpf_elf.LinkError, match="not_a_syscall"):
        sbpf_elf.link(str(obj), str(tmp_path / "p.so"))


def test_refuses_objects_without_entrypoint(tmp_path):
    obj = build_object(tmp_path, "define i64 @main(ptr %in) {\n  ret i64 0\n}\n")
    with pytest.raises(sbpf_elf.LinkError, match="entry symbol"):
        sbpf_elf.link(str(obj), str(tmp_path / "p.so"))
