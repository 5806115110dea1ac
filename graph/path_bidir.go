package graph

// meeting is what a bidirectional search learned: the length of the
// shortest path (-1 when there is none within MaxHops) and the complete
// breadth-first layers on each side, fromA up to depth da and toB up to db.
type meeting struct {
	length int
	fromA  map[NodeID]int8 // distance from a, for every node within da
	toB    map[NodeID]int8 // distance to b, for every node within db
	da, db int
}

// meet runs breadth-first searches from a (along path edges) and from b
// (against them), one whole layer at a time, always growing the side with
// the smaller frontier, and stops after the first layer in which the two
// meet. A path is shortest exactly when it meets that way, so its length is
// the smallest da+db over the nodes reached from both sides. The rules are
// those of the depth-first search: the kind filter applies to every node but
// a, the degree bound to every node but a and b, and only b ends a path.
func (p *pather) meet(a, b NodeID) meeting {
	m := meeting{length: -1, fromA: map[NodeID]int8{a: 0}, toB: map[NodeID]int8{b: 0}}
	if !p.fwd.kindOK(p.ix, b) {
		return m
	}
	fa, fb := []NodeID{a}, []NodeID{b}
	for m.da+m.db < p.opt.MaxHops && len(fa) > 0 && len(fb) > 0 {
		var next []NodeID
		if len(fa) <= len(fb) {
			d := int8(m.da + 1)
			for _, v := range fa {
				if v != a && !p.passable(v) {
					continue
				}
				p.fwd.eachHop(p.ix, v, func(h hop) bool {
					if !p.tick() {
						return false
					}
					if _, seen := m.fromA[h.to]; seen {
						return true
					}
					m.fromA[h.to] = d
					next = append(next, h.to)
					if db, ok := m.toB[h.to]; ok && (m.length < 0 || int(d)+int(db) < m.length) {
						m.length = int(d) + int(db)
					}
					return true
				})
				if p.err != nil {
					return m
				}
			}
			m.da++
			fa = next
		} else {
			d := int8(m.db + 1)
			for _, v := range fb {
				if v != b && !p.passable(v) {
					continue
				}
				p.eachIn(v, func(h hop) bool {
					if !p.tick() {
						return false
					}
					if _, seen := m.toB[h.to]; seen || (h.to != a && !p.fwd.kindOK(p.ix, h.to)) {
						return true
					}
					m.toB[h.to] = d
					next = append(next, h.to)
					if da, ok := m.fromA[h.to]; ok && (m.length < 0 || int(d)+int(da) < m.length) {
						m.length = int(d) + int(da)
					}
					return true
				})
				if p.err != nil {
					return m
				}
			}
			m.db++
			fb = next
		}
		if m.length >= 0 {
			break
		}
	}
	if m.length > p.opt.MaxHops {
		m.length = -1
	}
	return m
}

// firstShortest returns the shortest path from a to b whose node ids are
// smallest step by step, given the meeting of a successful meet. On a
// shortest path the node at step j is at distance j from a and L-j from b;
// the layers pin one of the two for every j (da+db ≥ L), which keeps the
// depth-first search inside the two balls. A node that cannot finish the
// path from its step never can (its step is its distance from a), so dead
// ends are remembered.
func (p *pather) firstShortest(a, b NodeID, m meeting) Path {
	L := m.length
	dead := map[NodeID]bool{}
	cur := Path{{Node: a}}
	var dfs func(v NodeID, j int) bool // j: the step of v
	dfs = func(v NodeID, j int) bool {
		if v != a && !p.passable(v) {
			return false
		}
		for _, s := range p.successors(v) {
			if !p.tick() {
				return false
			}
			next := j + 1
			if s.Node == b {
				if next == L {
					cur = append(cur, s)
					return true
				}
				continue
			}
			if next >= L || s.Node == a || dead[s.Node] {
				continue
			}
			if next <= m.da {
				if d, ok := m.fromA[s.Node]; !ok || int(d) != next {
					continue
				}
			}
			if L-next <= m.db {
				if d, ok := m.toB[s.Node]; !ok || int(d) != L-next {
					continue
				}
			}
			cur = append(cur, s)
			if dfs(s.Node, next) {
				return true
			}
			cur = cur[:len(cur)-1]
			if p.err != nil {
				return false
			}
			dead[s.Node] = true
		}
		return false
	}
	if !dfs(a, 0) {
		return nil
	}
	return cur
}
