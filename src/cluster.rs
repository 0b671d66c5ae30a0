//! Clusters: connected components of verified pairs, by union-find.

/// Union-find over dense ids, with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    /// The root of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Merge the sets of `a` and `b`; true if they were separate.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// For every element, its cluster's representative: the smallest id in
    /// its set (the first document in input order).
    pub fn representatives(&mut self) -> Vec<u32> {
        let n = self.len();
        let mut rep_of_root = vec![u32::MAX; n];
        let mut reps = Vec::with_capacity(n);
        for x in 0..n as u32 {
            let r = self.find(x) as usize;
            if rep_of_root[r] == u32::MAX {
                rep_of_root[r] = x;
            }
            reps.push(rep_of_root[r]);
        }
        reps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Components by breadth-first search: the oracle.
    fn bfs_reps(n: usize, edges: &[(u32, u32)]) -> Vec<u32> {
        let mut adj = vec![Vec::new(); n];
        for &(a, b) in edges {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
        let mut rep = vec![u32::MAX; n];
        for s in 0..n {
            if rep[s] != u32::MAX {
                continue;
            }
            let mut queue = std::collections::VecDeque::from([s as u32]);
            rep[s] = s as u32;
            while let Some(x) = queue.pop_front() {
                for &y in &adj[x as usize] {
                    if rep[y as usize] == u32::MAX {
                        rep[y as usize] = s as u32;
                        queue.push_back(y);
                    }
                }
            }
        }
        rep
    }

    #[test]
    fn chain_is_one_cluster() {
        let mut uf = UnionFind::new(5);
        assert!(uf.union(3, 4));
        assert!(uf.union(4, 1));
        assert!(!uf.union(1, 3));
        assert_eq!(uf.representatives(), vec![0, 1, 2, 1, 1]);
    }

    proptest! {
        #[test]
        fn matches_bfs(n in 1usize..60, raw in proptest::collection::vec((0u32..60, 0u32..60), 0..120)) {
            let edges: Vec<(u32, u32)> = raw.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)).collect();
            let mut uf = UnionFind::new(n);
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            prop_assert_eq!(uf.representatives(), bfs_reps(n, &edges));
        }
    }
}
