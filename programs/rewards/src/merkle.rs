//! The distributor's Merkle tree and claim bitmap: pure functions, unit
//! tested here and mirrored byte for byte by the Python SDK
//! (`iopay.rewards.merkle`).
//!
//! Hashing (SHA-256, the `sol_sha256` syscall on chain):
//! - leaf  = sha256(0x00 || epoch u64 LE || index u32 LE || wallet (32) || amount u64 LE)
//! - node  = sha256(0x01 || left || right)
//!
//! The prefix bytes separate leaves from interior nodes, so no interior node
//! (65 bytes hashed) can be passed off as a leaf (53 bytes hashed) or the
//! reverse: no second preimage.
//!
//! Index-ordered tree (not sorted pairs): leaf `i` sits at position `i` of
//! the bottom level; at level `k` the node is the left child when bit `k` of
//! its position is 0. A level with an odd number of nodes gets an [`EMPTY`]
//! (32 zero bytes) right sibling; no leaf or node hashes to it. Every proof
//! therefore has exactly `depth(num_leaves)` siblings, and because the path
//! is fixed by the index, a leaf can only be proven at its own index: the
//! index in the leaf, the path of the proof and the bit in the claim bitmap
//! all agree.
use solana_sha256_hasher::hashv;

pub const LEAF_PREFIX: u8 = 0x00;
pub const NODE_PREFIX: u8 = 0x01;
/// Padding sibling of the last node of an odd level.
pub const EMPTY: [u8; 32] = [0u8; 32];
/// A tree holds at most 2^MAX_DEPTH leaves (u32 indexes).
pub const MAX_DEPTH: u8 = 32;

/// Bytes hashed for a leaf: prefix, epoch, index, wallet, amount.
pub const LEAF_PREIMAGE_LEN: usize = 1 + 8 + 4 + 32 + 8;

// `sol_sha256` charges 85 CU plus, per slice, max(10, len / 2). The leaf is
// hashed as one contiguous preimage (111 CU instead of 141 for five field
// slices; same bytes, same hash); nodes are hashed from three slices
// pointing at the inputs, see `root_from_proof`.

pub fn leaf_hash(epoch: u64, index: u32, wallet: &[u8; 32], amount: u64) -> [u8; 32] {
    let mut pre = [0u8; LEAF_PREIMAGE_LEN];
    pre[0] = LEAF_PREFIX;
    pre[1..9].copy_from_slice(&epoch.to_le_bytes());
    pre[9..13].copy_from_slice(&index.to_le_bytes());
    pre[13..45].copy_from_slice(wallet);
    pre[45..53].copy_from_slice(&amount.to_le_bytes());
    hashv(&[&pre]).to_bytes()
}

pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    hash_node_into(left, right, &mut out);
    out
}

/// Number of levels above the leaves: ceil(log2(num_leaves)), 0 for one leaf.
pub fn depth(num_leaves: u32) -> u8 {
    if num_leaves <= 1 {
        0
    } else {
        (32 - (num_leaves - 1).leading_zeros()) as u8
    }
}

/// Root implied by `leaf` at `index` with `proof` (bottom-up siblings).
pub fn root_from_proof(leaf: [u8; 32], index: u32, proof: &[[u8; 32]]) -> [u8; 32] {
    // Two node buffers used in turn: level k hashes (prefix, node, sibling)
    // straight from `bufs[k % 2]` and the proof into `bufs[(k + 1) % 2]`, as
    // a list of three slices. On SBPF a 32-byte copy of a byte array is 64
    // byte loads and stores (no unaligned word access in this toolchain), so
    // hashing in place saves more than the one-slice preimage would (117 CU
    // per node instead of 127, but two copies per level).
    let mut bufs = [leaf, [0u8; 32]];
    let mut cur = 0usize;
    let mut pos = index as u64;
    for sibling in proof {
        let (node, out) = if cur == 0 {
            let (a, b) = bufs.split_at_mut(1);
            (&a[0], &mut b[0])
        } else {
            let (a, b) = bufs.split_at_mut(1);
            (&b[0], &mut a[0])
        };
        let (left, right) = if pos & 1 == 0 { (node, sibling) } else { (sibling, node) };
        hash_node_into(left, right, out);
        cur ^= 1;
        pos >>= 1;
    }
    bufs[cur]
}

/// `out = sha256(NODE_PREFIX || left || right)` without copying the inputs.
#[inline(always)]
fn hash_node_into(left: &[u8; 32], right: &[u8; 32], out: &mut [u8; 32]) {
    #[cfg(target_os = "solana")]
    {
        extern "C" {
            fn sol_sha256(vals: *const u8, val_len: u64, hash_result: *mut u8) -> u64;
        }
        let vals: [&[u8]; 3] = [&[NODE_PREFIX], left, right];
        // SAFETY: `vals` is a list of byte slices, the layout the syscall
        // reads (as `hashv` passes it); `out` is 32 writable bytes that alias
        // no input.
        unsafe {
            sol_sha256(vals.as_ptr() as *const u8, 3, out.as_mut_ptr());
        }
    }
    #[cfg(not(target_os = "solana"))]
    {
        *out = hashv(&[&[NODE_PREFIX], left, right]).to_bytes();
    }
}

/// Whether `proof` proves `leaf` at `index` in a tree of `num_leaves` leaves
/// with root `root`: index in range, exactly `depth(num_leaves)` siblings.
pub fn verify(root: &[u8; 32], num_leaves: u32, leaf: [u8; 32], index: u32, proof: &[[u8; 32]]) -> bool {
    index < num_leaves && proof.len() == depth(num_leaves) as usize && root_from_proof(leaf, index, proof) == *root
}

/// Bytes of a claim bitmap for `num_leaves` leaves (one bit per leaf).
pub fn bitmap_len(num_leaves: u32) -> usize {
    (num_leaves as usize).div_ceil(8)
}

/// `(byte, mask)` of `index` in the bitmap: bit `index % 8` (LSB first) of byte `index / 8`.
pub fn bit(index: u32) -> (usize, u8) {
    ((index / 8) as usize, 1u8 << (index % 8))
}

/// Builds every level of the tree (level 0 = leaves); host-side helper for
/// tests and tools. The last level has exactly one node, the root.
pub fn levels(leaves: Vec<[u8; 32]>) -> Vec<Vec<[u8; 32]>> {
    assert!(!leaves.is_empty());
    let mut out = vec![leaves];
    while out.last().unwrap().len() > 1 {
        let cur = out.last().unwrap();
        let next = cur
            .chunks(2)
            .map(|p| node_hash(&p[0], p.get(1).unwrap_or(&EMPTY)))
            .collect();
        out.push(next);
    }
    out
}

/// Proof of leaf `index` from [`levels`].
pub fn proof(levels: &[Vec<[u8; 32]>], index: u32) -> Vec<[u8; 32]> {
    let mut pos = index as usize;
    let mut out = Vec::with_capacity(levels.len().saturating_sub(1));
    for level in &levels[..levels.len() - 1] {
        out.push(*level.get(pos ^ 1).unwrap_or(&EMPTY));
        pos >>= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u32) -> (Vec<[u8; 32]>, Vec<Vec<[u8; 32]>>) {
        let leaves: Vec<_> = (0..n).map(|i| leaf_hash(7, i, &[i as u8; 32], 100 + i as u64)).collect();
        let lv = levels(leaves.clone());
        (leaves, lv)
    }

    #[test]
    fn depth_is_ceil_log2() {
        assert_eq!(depth(1), 0);
        assert_eq!(depth(2), 1);
        assert_eq!(depth(3), 2);
        assert_eq!(depth(4), 2);
        assert_eq!(depth(5), 3);
        assert_eq!(depth(10_000), 14);
        assert_eq!(depth(1_000_000), 20);
        assert_eq!(depth(1 << 20), 20);
        assert_eq!(depth((1 << 20) + 1), 21);
        assert_eq!(depth(u32::MAX), 32);
    }

    #[test]
    fn every_leaf_verifies_for_many_sizes() {
        for n in 1..=33u32 {
            let (leaves, lv) = tree(n);
            let root = lv.last().unwrap()[0];
            assert_eq!(lv.len() - 1, depth(n) as usize);
            for i in 0..n {
                let p = proof(&lv, i);
                assert!(verify(&root, n, leaves[i as usize], i, &p), "n={n} i={i}");
            }
        }
    }

    #[test]
    fn rejects_wrong_index_amount_wallet_epoch_and_proof() {
        let n = 11;
        let (leaves, lv) = tree(n);
        let root = lv.last().unwrap()[0];
        let p = proof(&lv, 5);
        // Leaf 5 at another index, or out of range.
        assert!(!verify(&root, n, leaves[5], 4, &p));
        assert!(!verify(&root, n, leaves[5], 5 + 16, &p));
        // Fields changed.
        assert!(!verify(&root, n, leaf_hash(7, 5, &[5; 32], 106), 5, &p));
        assert!(!verify(&root, n, leaf_hash(7, 5, &[6; 32], 105), 5, &p));
        assert!(!verify(&root, n, leaf_hash(8, 5, &[5; 32], 105), 5, &p));
        // Proof altered, shortened or extended.
        let mut bad = p.clone();
        bad[1][0] ^= 1;
        assert!(!verify(&root, n, leaves[5], 5, &bad));
        assert!(!verify(&root, n, leaves[5], 5, &p[..p.len() - 1]));
        let mut long = p.clone();
        long.push(EMPTY);
        assert!(!verify(&root, n, leaves[5], 5, &long));
    }

    #[test]
    fn interior_node_is_not_a_leaf() {
        // A level-1 node presented as a leaf with the upper part of a proof
        // fails: the depth is fixed and the prefixes differ.
        let n = 8;
        let (_, lv) = tree(n);
        let root = lv.last().unwrap()[0];
        let upper = proof(&lv[1..], 1);
        assert_eq!(root_from_proof(lv[1][1], 1, &upper), root);
        assert!(!verify(&root, n, lv[1][1], 1, &upper));
    }

    #[test]
    fn leaf_layout_is_stable() {
        // Pinned so the Python SDK (tests/rewards) hashes the same bytes.
        let leaf = leaf_hash(1, 2, &[3u8; 32], 4);
        let mut pre = vec![0u8];
        pre.extend_from_slice(&1u64.to_le_bytes());
        pre.extend_from_slice(&2u32.to_le_bytes());
        pre.extend_from_slice(&[3u8; 32]);
        pre.extend_from_slice(&4u64.to_le_bytes());
        assert_eq!(pre.len(), 53);
        assert_eq!(leaf, hashv(&[&pre]).to_bytes());
        assert_eq!(node_hash(&EMPTY, &EMPTY), hashv(&[&[1u8; 1], &[0u8; 64]]).to_bytes());
    }

    #[test]
    fn one_slice_hashing_matches_field_by_field() {
        // The contiguous preimages hash the same bytes as hashing the fields
        // as separate slices (the layout the README and the SDK document).
        let reference_leaf = |e: u64, i: u32, w: &[u8; 32], a: u64| {
            hashv(&[&[LEAF_PREFIX], &e.to_le_bytes(), &i.to_le_bytes(), w, &a.to_le_bytes()]).to_bytes()
        };
        let reference_node = |l: &[u8; 32], r: &[u8; 32]| hashv(&[&[NODE_PREFIX], l, r]).to_bytes();
        assert_eq!(leaf_hash(9, 77, &[4; 32], 123), reference_leaf(9, 77, &[4; 32], 123));
        assert_eq!(node_hash(&[1; 32], &[2; 32]), reference_node(&[1; 32], &[2; 32]));
        let (leaves, lv) = tree(13);
        for i in 0..13u32 {
            let p = proof(&lv, i);
            let mut node = leaves[i as usize];
            let mut pos = i;
            for s in &p {
                node = if pos & 1 == 0 { reference_node(&node, s) } else { reference_node(s, &node) };
                pos >>= 1;
            }
            assert_eq!(root_from_proof(leaves[i as usize], i, &p), node);
            assert_eq!(node, lv.last().unwrap()[0]);
        }
    }

    #[test]
    fn bitmap_positions() {
        assert_eq!(bitmap_len(1), 1);
        assert_eq!(bitmap_len(8), 1);
        assert_eq!(bitmap_len(9), 2);
        assert_eq!(bitmap_len(1_000_000), 125_000);
        assert_eq!(bit(0), (0, 1));
        assert_eq!(bit(7), (0, 0x80));
        assert_eq!(bit(8), (1, 1));
        assert_eq!(bit(u32::MAX), (536_870_911, 0x80));
    }
}
