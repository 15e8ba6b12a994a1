"""The benchmark's shapes: (instruction stem, account counts), in declaration order. The same
shapes as Anchor's own benchmark (solana-foundation/anchor tests/bench), so our figures line up
with the ones it publishes (published_1_0_2.py)."""
COUNTS = (1, 2, 4, 8)
SHAPES = [
    ("account_info", COUNTS),
    ("account_empty_init", COUNTS), ("account_empty", COUNTS),
    ("account_sized_init", COUNTS), ("account_sized", COUNTS),
    ("account_unsized_init", COUNTS), ("account_unsized", COUNTS),
    ("boxed_account_empty_init", COUNTS), ("boxed_account_empty", COUNTS),
    ("boxed_account_sized_init", COUNTS), ("boxed_account_sized", COUNTS),
    ("boxed_account_unsized_init", COUNTS), ("boxed_account_unsized", COUNTS),
    ("boxed_interface_account_mint", COUNTS), ("boxed_interface_account_token", COUNTS),
    ("interface_account_mint", COUNTS),
    ("interface_account_token", (1, 2, 4)),  # no 8-account variant in Anchor's benchmark either
    ("interface", COUNTS), ("program", COUNTS), ("signer", COUNTS),
    ("system_account", COUNTS), ("unchecked_account", COUNTS),
]


def camel(stem: str) -> str:
    return "".join(w.capitalize() for w in stem.split("_"))


def lower_camel(stem: str) -> str:
    c = camel(stem)
    return c[0].lower() + c[1:]
