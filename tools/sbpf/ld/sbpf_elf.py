"""Link one relocatable upstream-LLVM BPF object into an SBPF v0 shared object.

The object comes from `llc -march=bpfel -function-sections -data-sections`. SBPF v0 programs are
ET_DYN ELF files that Solana's loader (solana-sbpf, "lenient" v0 rules) maps as follows:
- `.text` and `.rodata` are read-only and addressed at MM_RODATA_START + their file offset
  (we place every section at sh_addr == sh_offset, so one number serves both);
- calls to other functions are pc-relative `call imm` (the loader rehashes them itself);
- calls to undefined symbols are syscalls: `call -1` plus an R_BPF_64_32 dynamic relocation
  against a `.dynsym` entry naming the syscall (the loader murmur3-hashes the name);
- `callx` keeps its register in the imm field (upstream puts it in dst);
- there is no writable data: a writable section that survives garbage collection is an error.

Only sections reachable from the entry symbol are kept.
"""
from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field

MM_RODATA_START = 1 << 32
EM_BPF = 247
ET_REL, ET_DYN = 1, 3
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHT_REL, SHT_RELA = 1, 2, 3, 8, 9, 4
SHT_DYNAMIC, SHT_DYNSYM = 6, 11
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHN_UNDEF = 0
# BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def)
R_BPF_64_64, R_BPF_64_ABS64, R_BPF_64_ABS32, R_BPF_64_NODYLD32, R_BPF_64_32 = 1, 2, 3, 4, 10
OP_CALL_IMM, OP_CALL_REG = 0x85, 0x8D
# Syscalls the Solana runtime registers (agave's program-runtime syscall list). An undefined call to
# anything else would load but fail at deploy time, so the linker refuses it up front.
SOLANA_SYSCALLS = frozenset("""
abort sol_panic_ sol_log_ sol_log_64_ sol_log_compute_units_ sol_log_pubkey sol_log_data
sol_create_program_address sol_try_find_program_address sol_sha256 sol_keccak256 sol_blake3
sol_secp256k1_recover sol_poseidon sol_big_mod_exp sol_curve_validate_point sol_curve_group_op
sol_curve_multiscalar_mul sol_curve_pairing_map sol_alt_bn128_group_op sol_alt_bn128_compression
sol_get_clock_sysvar sol_get_epoch_schedule_sysvar sol_get_fees_sysvar sol_get_rent_sysvar
sol_get_last_restart_slot sol_get_epoch_rewards_sysvar sol_get_sysvar sol_get_epoch_stake
sol_memcpy_ sol_memmove_ sol_memcmp_ sol_memset_ sol_invoke_signed_c sol_invoke_signed_rust
sol_alloc_free_ sol_set_return_data sol_get_return_data sol_get_processed_sibling_instruction
sol_get_stack_height sol_remaining_compute_units
""".split())
# llc lowers llvm.trap to a call to __bpf_trap; on Solana that is the `abort` syscall.
SYSCALL_ALIASES = {"__bpf_trap": "abort"}


class LinkError(Exception):
    pass


@dataclass
class Section:
    index: int
    name: str
    type: int
    flags: int
    offset: int
    size: int
    align: int
    data: bytes
    relocs: list = field(default_factory=list)  # (offset, type, symbol index)

    @property
    def is_code(self) -> bool:
        return bool(self.flags & SHF_ALLOC and self.flags & SHF_EXECINSTR)

    @property
    def is_data(self) -> bool:
        return bool(self.flags & SHF_ALLOC) and not self.is_code and self.type in (SHT_PROGBITS, SHT_NOBITS)


@dataclass
class Symbol:
    name: str
    value: int
    size: int
    shndx: int
    info: int


def _cstr(blob: bytes, off: int) -> str:
    end = blob.index(b"\0", off)
    return blob[off:end].decode()


def read_object(raw: bytes) -> tuple[list[Section], list[Symbol]]:
    """Parse an ELF64 little-endian relocatable BPF object."""
    if raw[:4] != b"\x7fELF" or raw[4] != 2 or raw[5] != 1:
        raise LinkError("not a 64-bit little-endian ELF object")
    e_type, e_machine = struct.unpack_from("<HH", raw, 16)
    if e_type != ET_REL or e_machine != EM_BPF:
        raise LinkError(f"expected a relocatable BPF object, got type {e_type} machine {e_machine}")
    e_shoff = struct.unpack_from("<Q", raw, 40)[0]
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", raw, 58)
    headers = [struct.unpack_from("<IIQQQQIIQQ", raw, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    shstr = raw[headers[e_shstrndx][4]:][: headers[e_shstrndx][5]]
    sections = []
    for i, (name, typ, flags, _addr, off, size, _link, _info, align, _ent) in enumerate(headers):
        data = b"" if typ == SHT_NOBITS else raw[off:off + size]
        sections.append(Section(i, _cstr(shstr, name), typ, flags, off, size, max(align, 1), data))
    symbols: list[Symbol] = []
    for i, h in enumerate(headers):
        if h[1] == SHT_SYMTAB:
            strtab = sections[h[6]].data
            for k in range(h[5] // 24):
                st_name, st_info, _other, st_shndx, st_value, st_size = struct.unpack_from("<IBBHQQ", sections[i].data, k * 24)
                symbols.append(Symbol(_cstr(strtab, st_name), st_value, st_size, st_shndx, st_info))
    for h, sec in zip(headers, sections):
        if sec.type == SHT_RELA:
            raise LinkError("RELA relocations are not produced for BPF; unexpected object")
        if sec.type == SHT_REL:
            target = sections[h[7]]
            for k in range(sec.size // 16):
                off, info = struct.unpack_from("<QQ", sec.data, k * 16)
                target.relocs.append((off, info & 0xFFFFFFFF, info >> 32))
    return sections, symbols


def _align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


@dataclass
class LinkStats:
    text_bytes: int
    rodata_bytes: int
    functions: int
    syscalls: list
    callx_fixed: int


def link(obj_path: str, out_path: str, entry: str = "entrypoint") -> LinkStats:
    with open(obj_path, "rb") as f:
        sections, symbols = read_object(f.read())

    def defined(sym: Symbol) -> bool:
        return sym.shndx != SHN_UNDEF and sym.shndx < 0xFF00

    entry_syms = [s for s in symbols if s.name == entry and defined(s)]
    if not entry_syms:
        raise LinkError(f"entry symbol `{entry}` is not defined")
    entry_sym = entry_syms[0]

    # Garbage-collect: keep only sections reachable from the entry through relocations.
    live: set[int] = set()
    work = [entry_sym.shndx]
    while work:
        i = work.pop()
        if i in live:
            continue
        live.add(i)
        for _, _, si in sections[i].relocs:
            if defined(symbols[si]) and symbols[si].shndx not in live:
                work.append(symbols[si].shndx)

    code = [sections[i] for i in sorted(live) if sections[i].is_code]
    data = [sections[i] for i in sorted(live) if sections[i].is_data]
    odd = [sections[i].name for i in sorted(live) if sections[i] not in code and sections[i] not in data]
    if odd:
        raise LinkError("unexpected sections referenced from code: " + ", ".join(odd))
    # .data.rel.ro is writable only for a dynamic loader's relocations; we resolve those here.
    writable = [s for s in data if s.flags & SHF_WRITE and not s.name.startswith(".data.rel.ro")]
    if writable:
        names = sorted({sym.name for sym in symbols if sym.shndx in {s.index for s in writable} and sym.name})
        raise LinkError(
            "SBPF has no writable data, but the program keeps writable statics: "
            + ", ".join(names or [s.name for s in writable])
        )

    # Layout: ELF header, program headers, .text, .rodata; file offset == virtual address.
    ehdr_size, phdr_size, nphdr = 64, 56, 3
    place: dict[int, int] = {}
    cur = _align(ehdr_size + nphdr * phdr_size, 8)
    text_start = cur
    for s in code:
        cur = _align(cur, 8)
        place[s.index] = cur
        cur += s.size
    text_end = _align(cur, 8)
    cur = ro_start = text_end
    for s in data:
        cur = _align(cur, s.align)
        place[s.index] = cur
        cur += s.size
    ro_end = cur
    img = bytearray(ro_end)
    for s in code + data:
        if s.type != SHT_NOBITS:
            img[place[s.index]:place[s.index] + len(s.data)] = s.data

    def addr(si: int):
        sym = symbols[si]
        return place[sym.shndx] + sym.value if defined(sym) else None

    syscalls: list[str] = []
    dyn_relocs: list[tuple[int, int]] = []  # (offset of call insn, dynsym index)
    for s in code + data:
        base = place[s.index]
        for off, typ, si in s.relocs:
            p, a, name = base + off, addr(si), symbols[si].name
            if typ == R_BPF_64_32:
                if a is None:
                    name = SYSCALL_ALIASES.get(name, name)
                    if name not in SOLANA_SYSCALLS:
                        raise LinkError(f"undefined function `{name}` (not a Solana syscall)")
                    if name not in syscalls:
                        syscalls.append(name)
                    struct.pack_into("<i", img, p + 4, -1)
                    dyn_relocs.append((p, syscalls.index(name) + 1))
                else:
                    # REL addend sits in imm: target = S + (imm + 1) * 8; SBPF wants pc-relative slots.
                    imm = struct.unpack_from("<i", img, p + 4)[0]
                    target = a + (imm + 1) * 8
                    if (target - text_start) % 8 or not text_start <= target < text_end:
                        raise LinkError(f"call at 0x{p:x} to {name or '?'} lands outside .text")
                    struct.pack_into("<i", img, p + 4, (target - p) // 8 - 1)
            elif typ in (R_BPF_64_64, R_BPF_64_ABS64, R_BPF_64_ABS32):
                if a is None:
                    raise LinkError(f"data reference to undefined symbol `{name}`")
                if typ == R_BPF_64_64:  # lddw: 64-bit immediate split over two instruction slots
                    v = MM_RODATA_START + a + struct.unpack_from("<I", img, p + 4)[0]
                    struct.pack_into("<I", img, p + 4, v & 0xFFFFFFFF)
                    struct.pack_into("<I", img, p + 12, v >> 32)
                elif typ == R_BPF_64_ABS64:
                    struct.pack_into("<Q", img, p, MM_RODATA_START + a + struct.unpack_from("<Q", img, p)[0])
                else:
                    struct.pack_into("<I", img, p, (a + struct.unpack_from("<I", img, p)[0]) & 0xFFFFFFFF)
            elif typ == R_BPF_64_NODYLD32:
                pass  # debug-info only
            else:
                raise LinkError(f"unsupported relocation type {typ} in {s.name}")

    callx = 0
    for pc in range(text_start, text_end, 8):
        if img[pc] == OP_CALL_REG:
            regs = img[pc + 1]
            reg = (regs & 0xF) or (regs >> 4) or struct.unpack_from("<i", img, pc + 4)[0]
            img[pc + 1] = 0
            struct.pack_into("<i", img, pc + 4, reg)
            callx += 1

    out = img
    # Dynamic section, symbols and relocations for the syscalls.
    dynstr = bytearray(b"\0")
    dynsym = bytearray(24)
    for name in syscalls:
        dynsym += struct.pack("<IBBHQQ", len(dynstr), 0x12, 0, 0, 0, 0)  # GLOBAL FUNC, undefined
        dynstr += name.encode() + b"\0"
    reldyn = b"".join(struct.pack("<QQ", p, (idx << 32) | R_BPF_64_32) for p, idx in dyn_relocs)

    def pad_to(a: int) -> int:
        out.extend(bytes(_align(len(out), a) - len(out)))
        return len(out)

    ndyn = 8
    dyn_off = pad_to(8)
    out.extend(bytes(16 * ndyn))
    dynsym_off = pad_to(8)
    out.extend(dynsym)
    dynstr_off = len(out)
    out.extend(dynstr)
    rel_off = pad_to(8)
    out.extend(reldyn)
    dyn_end = len(out)
    DT_NULL, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_REL, DT_RELSZ, DT_RELENT = 0, 5, 6, 10, 11, 17, 18, 19
    entries = [(DT_SYMTAB, dynsym_off), (DT_SYMENT, 24), (DT_STRTAB, dynstr_off), (DT_STRSZ, len(dynstr))]
    if reldyn:
        entries = [(DT_REL, rel_off), (DT_RELSZ, len(reldyn)), (DT_RELENT, 16)] + entries
    entries += [(DT_NULL, 0)] * (ndyn - len(entries))
    for k, (tag, val) in enumerate(entries):
        struct.pack_into("<qQ", out, dyn_off + 16 * k, tag, val)

    names = [".text", ".rodata", ".dynamic", ".dynsym", ".dynstr", ".rel.dyn", ".shstrtab"]
    shstr = bytearray(b"\0")
    name_off = {}
    for n in names:
        name_off[n] = len(shstr)
        shstr += n.encode() + b"\0"
    shstr_off = len(out)
    out.extend(shstr)
    shoff = pad_to(8)

    def shdr(name, typ, flags, off, size, link=0, info=0, align=8, entsize=0, vaddr=None):
        return struct.pack("<IIQQQQIIQQ", name_off[name], typ, flags, off if vaddr is None else vaddr, off, size,
                           link, info, align, entsize)

    out.extend(bytes(64))  # null section header
    out.extend(shdr(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text_start, text_end - text_start))
    out.extend(shdr(".rodata", SHT_PROGBITS, SHF_ALLOC, ro_start, ro_end - ro_start))
    out.extend(shdr(".dynamic", SHT_DYNAMIC, SHF_ALLOC, dyn_off, 16 * ndyn, link=5, entsize=16))
    out.extend(shdr(".dynsym", SHT_DYNSYM, SHF_ALLOC, dynsym_off, len(dynsym), link=5, info=1, entsize=24))
    out.extend(shdr(".dynstr", SHT_STRTAB, SHF_ALLOC, dynstr_off, len(dynstr), align=1))
    out.extend(shdr(".rel.dyn", SHT_REL, SHF_ALLOC, rel_off, len(reldyn), link=4, entsize=16))
    out.extend(shdr(".shstrtab", SHT_STRTAB, 0, shstr_off, len(shstr), align=1, vaddr=0))
    nsh = len(names) + 1

    PT_LOAD, PT_DYNAMIC, PF_X, PF_W, PF_R = 1, 2, 1, 2, 4
    phdrs = struct.pack("<IIQQQQQQ", PT_LOAD, PF_R | PF_X, text_start, text_start, text_start,
                        ro_end - text_start, ro_end - text_start, 8)
    phdrs += struct.pack("<IIQQQQQQ", PT_LOAD, PF_R, dyn_off, dyn_off, dyn_off, dyn_end - dyn_off, dyn_end - dyn_off, 8)
    phdrs += struct.pack("<IIQQQQQQ", PT_DYNAMIC, PF_R | PF_W, dyn_off, dyn_off, dyn_off, 16 * ndyn, 16 * ndyn, 8)
    out[ehdr_size:ehdr_size + len(phdrs)] = phdrs
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    out[0:ehdr_size] = ident + struct.pack("<HHIQQQIHHHHHH", ET_DYN, EM_BPF, 1, addr(symbols.index(entry_sym)),
                                           ehdr_size, shoff, 0, ehdr_size, phdr_size, nphdr, 64, nsh, nsh - 1)
    with open(out_path, "wb") as f:
        f.write(out)
    return LinkStats(text_end - text_start, ro_end - ro_start, len(code), syscalls, callx)


if __name__ == "__main__":
    try:
        st = link(sys.argv[1], sys.argv[2])
    except LinkError as e:
        sys.exit(f"sbpf-ld: error: {e}")
    print(st, file=sys.stderr)
