//! RFC 6962 Merkle tree arithmetic over stored perfect subtrees.
//!
//! A log stores, for each completed (perfect, aligned) subtree, its hash as a [`NodeId`]
//! `(level, index)` covering leaves `[index·2^level, (index+1)·2^level)`. That set only ever
//! grows (the table is insert-only); the right edge of a tree whose size is not a power of
//! two is computed on demand from those nodes by [`range_hash`]. Roots and proofs for any
//! older size come from the same nodes.
//!
//! Proof layout (which subtrees, in which order) comes from `ct-merkle`'s index functions,
//! and verification is `ct-merkle`'s, so our proofs are byte-identical to its in-memory tree
//! (tested below).

use std::collections::BTreeSet;

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use digest::Digest;

use crate::HashAlg;

/// A 32-byte digest (SHA-256 or SM3).
pub type Hash = [u8; 32];

/// A perfect subtree: `level` 0 is a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

impl NodeId {
    pub fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    fn children(self) -> (NodeId, NodeId) {
        let l = NodeId { level: self.level - 1, index: self.index * 2 };
        (l, NodeId { level: l.level, index: l.index + 1 })
    }
}

/// A node the storage lacks (a corrupted or truncated node table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("missing Merkle node (level {}, index {})", .0.level, .0.index)]
pub struct MissingNode(pub NodeId);

/// The nodes that appending leaf number `n` (0-based) completes, bottom-up, starting with
/// the leaf itself. Each one above the leaf is the parent of the two before it.
pub fn completed_by_append(n: u64) -> Vec<NodeId> {
    let mut out = vec![NodeId::leaf(n)];
    let mut cur = NodeId::leaf(n);
    while cur.index % 2 == 1 {
        cur = NodeId { level: cur.level + 1, index: cur.index / 2 };
        out.push(cur);
    }
    out
}

/// Computes the hashes of the nodes completed by appending `leaf_hash` as leaf `n`, given
/// a lookup of existing nodes (only left siblings along the path are read).
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn append(
    alg: HashAlg,
    n: u64,
    leaf_hash: Hash,
    lookup: impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<(NodeId, Hash)>, MissingNode> {
    let mut out = vec![(NodeId::leaf(n), leaf_hash)];
    for id in completed_by_append(n).into_iter().skip(1) {
        let (l, _) = id.children();
        let left = lookup(l).ok_or(MissingNode(l))?;
        let right = out.last().map(|(_, h)| *h).unwrap_or(leaf_hash);
        out.push((id, alg.node(&left, &right)));
    }
    Ok(out)
}

fn largest_pow2_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The perfect nodes that [`range_hash`] of `[a, b)` reads.
pub fn range_nodes(a: u64, b: u64, out: &mut BTreeSet<NodeId>) {
    let len = b - a;
    if len.is_power_of_two() && a.is_multiple_of(len) {
        out.insert(NodeId { level: len.trailing_zeros(), index: a / len });
        return;
    }
    let k = largest_pow2_below(len);
    range_nodes(a, a + k, out);
    range_nodes(a + k, b, out);
}

/// RFC 6962 MTH of leaves `[a, b)` (where `a` is aligned as in the RFC's recursion).
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn range_hash(alg: HashAlg, a: u64, b: u64, lookup: &impl Fn(NodeId) -> Option<Hash>) -> Result<Hash, MissingNode> {
    let len = b - a;
    if len.is_power_of_two() && a.is_multiple_of(len) {
        let id = NodeId { level: len.trailing_zeros(), index: a / len };
        return lookup(id).ok_or(MissingNode(id));
    }
    let k = largest_pow2_below(len);
    Ok(alg.node(&range_hash(alg, a, a + k, lookup)?, &range_hash(alg, a + k, b, lookup)?))
}

/// The leaf range `[a, b)` of a `ct-merkle` in-order node index in a tree of `n` leaves.
fn range_of_index(idx: u64, n: u64) -> (u64, u64) {
    let level = idx.trailing_ones();
    let start = (idx >> (level + 1)) << level;
    (start, (start + (1u64 << level)).min(n))
}

/// Subtree ranges whose hashes form the inclusion proof of leaf `m` in a tree of `n`.
/// Requires `m < n`.
pub fn inclusion_ranges(n: u64, m: u64) -> Vec<(u64, u64)> {
    ct_merkle::indices_for_inclusion_proof(n, m).into_iter().map(|i| range_of_index(i, n)).collect()
}

/// Subtree ranges whose hashes form the consistency proof from size `old` to size `new`.
/// Requires `0 < old <= new`.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    ct_merkle::indices_for_consistency_proof(old, new - old).into_iter().map(|i| range_of_index(i, new)).collect()
}

/// Every stored node needed to compute the hashes of `ranges`.
pub fn nodes_for(ranges: &[(u64, u64)]) -> BTreeSet<NodeId> {
    let mut s = BTreeSet::new();
    for (a, b) in ranges {
        range_nodes(*a, *b, &mut s);
    }
    s
}

/// A leaf as ct-merkle hashes it: the bytes as given.
struct LeafBytes<'a>(&'a [u8]);

impl AsRef<[u8]> for LeafBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

fn to_output<H: Digest>(h: &Hash) -> digest::Output<H> {
    let mut out = digest::Output::<H>::default();
    out.copy_from_slice(h);
    out
}

/// Does `proof` show that `leaf_bytes` is leaf `m` of the tree with `root` and size `n`?
pub fn verify_inclusion(alg: HashAlg, root: &Hash, n: u64, m: u64, leaf_bytes: &[u8], proof: &[Hash]) -> bool {
    fn run<H: Digest>(root: &Hash, n: u64, m: u64, leaf: &[u8], proof: &[Hash]) -> bool {
        if n == 0 || m >= n {
            return false;
        }
        let outs: Vec<digest::Output<H>> = proof.iter().map(to_output::<H>).collect();
        let p = InclusionProof::<H>::from_digests(outs.iter());
        RootHash::<H>::new(to_output::<H>(root), n).verify_inclusion(&LeafBytes(leaf), m, &p).is_ok()
    }
    match alg {
        HashAlg::Sha256 => run::<sha2::Sha256>(root, n, m, leaf_bytes, proof),
        HashAlg::Sm3 => run::<sm3::Sm3>(root, n, m, leaf_bytes, proof),
    }
}

/// Does `proof` show that the tree (`new_root`, `new`) extends (`old_root`, `old`)?
pub fn verify_consistency(alg: HashAlg, old_root: &Hash, old: u64, new_root: &Hash, new: u64, proof: &[Hash]) -> bool {
    fn run<H: Digest>(old_root: &Hash, old: u64, new_root: &Hash, new: u64, proof: &[Hash]) -> bool {
        if old == 0 || old > new {
            return false;
        }
        if old == new {
            return proof.is_empty() && old_root == new_root;
        }
        let outs: Vec<digest::Output<H>> = proof.iter().map(to_output::<H>).collect();
        let p = ConsistencyProof::<H>::from_digests(outs.iter());
        let old_r = RootHash::<H>::new(to_output::<H>(old_root), old);
        RootHash::<H>::new(to_output::<H>(new_root), new).verify_consistency(&old_r, &p).is_ok()
    }
    match alg {
        HashAlg::Sha256 => run::<sha2::Sha256>(old_root, old, new_root, new, proof),
        HashAlg::Sm3 => run::<sm3::Sm3>(old_root, old, new_root, new, proof),
    }
}

/// An in-memory log tree built by the same append rule as the store: used by `verify` to
/// recompute a log, and by tests as the reference storage.
#[derive(Debug, Clone)]
pub struct MemTree {
    pub alg: HashAlg,
    /// The completed nodes by level: `levels[l][i]` is node `(l, i)`. Appending completes
    /// the nodes of each level in index order, so every level is dense.
    levels: Vec<Vec<Hash>>,
    size: u64,
}

impl MemTree {
    pub fn new(alg: HashAlg) -> Self {
        Self { alg, levels: Vec::new(), size: 0 }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let level = self.levels.get(usize::try_from(id.level).ok()?)?;
        level.get(usize::try_from(id.index).ok()?).copied()
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, Hash)> + '_ {
        self.levels.iter().enumerate().flat_map(|(l, hs)| {
            hs.iter().enumerate().map(move |(i, h)| (NodeId { level: l as u32, index: i as u64 }, *h))
        })
    }

    /// Appends a leaf by its hash, completing its parents (the rule of [`append`]).
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash) {
        let mut level = 0;
        let mut index = self.size;
        let mut cur = leaf_hash;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            debug_assert_eq!(self.levels[level].len() as u64, index);
            self.levels[level].push(cur);
            if index.is_multiple_of(2) {
                break;
            }
            let left = &self.levels[level][self.levels[level].len() - 2];
            cur = self.alg.node(left, &cur);
            level += 1;
            index /= 2;
        }
        self.size += 1;
    }

    /// Appends a leaf by its hash; returns the nodes it completed.
    pub fn push_hash(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        let n = self.size;
        self.push_leaf_hash(leaf_hash);
        completed_by_append(n).into_iter().map(|id| (id, self.node(id).expect("just completed"))).collect()
    }

    pub fn push(&mut self, leaf_bytes: &[u8]) -> Vec<(NodeId, Hash)> {
        let h = self.alg.leaf(leaf_bytes);
        self.push_hash(h)
    }

    /// The root of the first `size` leaves (the empty tree's root is H()).
    pub fn root_at(&self, size: u64) -> Hash {
        if size == 0 {
            return self.alg.digest(&[]);
        }
        range_hash(self.alg, 0, size, &|id| self.node(id)).expect("complete")
    }

    pub fn root(&self) -> Hash {
        self.root_at(self.size)
    }

    pub fn inclusion_proof(&self, size: u64, m: u64) -> Vec<Hash> {
        inclusion_ranges(size, m)
            .into_iter()
            .map(|(a, b)| range_hash(self.alg, a, b, &|id| self.node(id)).expect("complete"))
            .collect()
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Vec<Hash> {
        if old == new {
            return Vec::new();
        }
        consistency_ranges(old, new)
            .into_iter()
            .map(|(a, b)| range_hash(self.alg, a, b, &|id| self.node(id)).expect("complete"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_merkle::mem_backed_tree::MemoryBackedTree;
    use proptest::prelude::*;

    fn leaf(i: u64) -> Vec<u8> {
        format!("leaf-{i}").into_bytes()
    }

    fn both(n: u64) -> (MemTree, MemoryBackedTree<sha2::Sha256, Vec<u8>>) {
        let mut ours = MemTree::new(HashAlg::Sha256);
        let mut theirs = MemoryBackedTree::<sha2::Sha256, Vec<u8>>::new();
        for i in 0..n {
            ours.push(&leaf(i));
            theirs.push(leaf(i));
        }
        (ours, theirs)
    }

    #[test]
    fn empty_and_single() {
        let t = MemTree::new(HashAlg::Sha256);
        assert_eq!(hex::encode(t.root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let (ours, theirs) = both(1);
        assert_eq!(ours.root().as_slice(), theirs.root().as_bytes().as_slice());
    }

    #[test]
    fn append_completes_parents() {
        assert_eq!(completed_by_append(0), vec![NodeId::leaf(0)]);
        assert_eq!(completed_by_append(3).len(), 3); // leaf 3, (1,1), (2,0)
        assert_eq!(completed_by_append(6).len(), 1);
        assert_eq!(completed_by_append(7).last(), Some(&NodeId { level: 3, index: 0 }));
    }

    #[test]
    fn sm3_differs_from_sha256() {
        let mut a = MemTree::new(HashAlg::Sha256);
        let mut b = MemTree::new(HashAlg::Sm3);
        for i in 0..5 {
            a.push(&leaf(i));
            b.push(&leaf(i));
        }
        assert_ne!(a.root(), b.root());
        let p = b.inclusion_proof(5, 2);
        assert!(verify_inclusion(HashAlg::Sm3, &b.root(), 5, 2, &leaf(2), &p));
        assert!(!verify_inclusion(HashAlg::Sha256, &b.root(), 5, 2, &leaf(2), &p));
    }

    #[test]
    fn mem_tree_completes_the_nodes_that_append_computes() {
        let mut t = MemTree::new(HashAlg::Sha256);
        let mut stored = std::collections::HashMap::new();
        for i in 0..70 {
            let h = HashAlg::Sha256.leaf(&leaf(i));
            let expected = append(HashAlg::Sha256, i, h, |id| stored.get(&id).copied()).unwrap();
            stored.extend(expected.iter().copied());
            assert_eq!(t.push_hash(h), expected);
        }
        assert_eq!(t.nodes().count(), stored.len());
        assert!(t.nodes().all(|(id, h)| stored[&id] == h));
        assert_eq!(t.node(NodeId { level: 7, index: 0 }), None);
        assert_eq!(t.node(NodeId { level: 0, index: 70 }), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Roots and proofs are byte-identical to ct-merkle's in-memory tree, for old sizes too.
        #[test]
        fn identical_to_ct_merkle(n in 1u64..300, m_seed in any::<u64>(), old_seed in any::<u64>()) {
            let (ours, theirs) = both(n);
            let (r1, r2) = (ours.root(), theirs.root());
            prop_assert_eq!(r1.as_slice(), r2.as_bytes().as_slice());
            let m = m_seed % n;
            let proof = ours.inclusion_proof(n, m);
            let flat: Vec<u8> = proof.iter().flatten().copied().collect();
            let theirs_proof = theirs.prove_inclusion(m as usize);
            prop_assert_eq!(flat.as_slice(), theirs_proof.as_bytes());
            prop_assert!(verify_inclusion(HashAlg::Sha256, &ours.root(), n, m, &leaf(m), &proof));
            prop_assert!(!verify_inclusion(HashAlg::Sha256, &ours.root(), n, m, &leaf(m + 1), &proof));

            let old = 1 + old_seed % n;
            let cproof = ours.consistency_proof(old, n);
            if old < n {
                let flat: Vec<u8> = cproof.iter().flatten().copied().collect();
                let theirs_c = theirs.prove_consistency((n - old) as usize);
                prop_assert_eq!(flat.as_slice(), theirs_c.as_bytes());
            }
            prop_assert!(verify_consistency(HashAlg::Sha256, &ours.root_at(old), old, &ours.root(), n, &cproof));
            if old < n {
                let mut bad = ours.root_at(old);
                bad[0] ^= 1;
                prop_assert!(!verify_consistency(HashAlg::Sha256, &bad, old, &ours.root(), n, &cproof));
            }
        }

        /// Proofs against an older size verify against that size's root.
        #[test]
        fn proofs_for_older_sizes(n in 2u64..200, size_seed in any::<u64>(), m_seed in any::<u64>()) {
            let (ours, _) = both(n);
            let size = 1 + size_seed % n;
            let m = m_seed % size;
            let p = ours.inclusion_proof(size, m);
            prop_assert!(verify_inclusion(HashAlg::Sha256, &ours.root_at(size), size, m, &leaf(m), &p));
        }
    }
}
