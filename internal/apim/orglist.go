package apim

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"gatehouse/internal/store"
)

// maxCachedOrgs bounds the org list kept in memory; an account with more
// orgs is listed from the store every time.
const maxCachedOrgs = 10_000

// orgList is the account's orgs ordered by name, kept in memory so that a
// listing (GET /v1/me lists the caller's orgs on every call) needs no store
// round trip when nothing changed. A fill that raced an invalidation is
// dropped (generation counter), so a change is never hidden by a stale list.
type orgList struct {
	mu   sync.Mutex
	gen  uint64
	all  []store.Org // nil: not loaded
	many bool        // more than maxCachedOrgs: not cached
}

func (l *orgList) forget() {
	l.mu.Lock()
	l.gen++
	l.all, l.many = nil, false
	l.mu.Unlock()
}

// forgetOrgs drops every cached org (by id, by name, and the list).
func (s *Service) forgetOrgs() {
	s.orgs.ForgetAll()
	s.orgList.forget()
}

// allOrgs returns every org of the account by name, or ok=false when there
// are too many to keep in memory. The slice is shared: never modify it.
func (s *Service) allOrgs(ctx context.Context) (all []store.Org, ok bool, err error) {
	l := &s.orgList
	l.mu.Lock()
	all, many, gen := l.all, l.many, l.gen
	l.mu.Unlock()
	if all != nil || many {
		return all, !many, nil
	}
	all = []store.Org{}
	after := ""
	for {
		batch, err := s.store.ListOrgs(ctx, s.accountID, store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, false, fmt.Errorf("list orgs: %w", err)
		}
		all = append(all, batch...)
		if len(all) > maxCachedOrgs {
			many = true
			break
		}
		if len(batch) < 1000 {
			break
		}
		after = batch[len(batch)-1].Name
	}
	l.mu.Lock()
	if l.gen == gen {
		if many {
			l.many = true
		} else {
			l.all = all
		}
	}
	l.mu.Unlock()
	if many {
		return nil, false, nil
	}
	return all, true, nil
}

// listCachedOrgs is ListOrgs from the in-memory list: the orgs after the
// name after that keep returns true, at most limit+1 of them.
func listCachedOrgs(all []store.Org, after string, limit int, keep func(store.Org) bool) []store.Org {
	i := sort.Search(len(all), func(i int) bool { return all[i].Name > after })
	var out []store.Org
	for ; i < len(all) && len(out) <= limit; i++ {
		if keep(all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}
