package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gatehouse/client"
)

// The table format of each resource: the columns a person scans; -o json
// has every field.

func meTable(m *client.Me) *table {
	t := &table{headers: []string{"FIELD", "VALUE"}}
	t.add("NAME", dash(m.Name))
	t.add("ID", m.ID)
	t.add("IAM ID", m.IAMID)
	t.add("TYPE", m.SubType)
	if m.Email != "" {
		t.add("EMAIL", m.Email)
	}
	t.add("ACCOUNT", m.AccountID)
	t.add("API KEY", fmt.Sprintf("%s (%s)", m.APIKey.ID, m.APIKey.Name))
	var roles []string
	for _, r := range m.Roles {
		if r.Scope == "account" {
			roles = append(roles, r.Role+" on the account")
		} else {
			roles = append(roles, fmt.Sprintf("%s in org %s", r.Role, dash(r.OrgName)))
		}
	}
	t.add("ROLES", dash(strings.Join(roles, ", ")))
	var orgs []string
	for _, o := range m.Orgs {
		orgs = append(orgs, fmt.Sprintf("%s (%s)", o.Name, o.Role))
	}
	t.add("ORGS", dash(strings.Join(orgs, ", ")))
	return t
}

func apikeyTable(keys []client.APIKey) *table {
	t := &table{headers: []string{"ID", "NAME", "ROLE", "LOCKED", "DISABLED", "EXPIRES", "HINT", "CREATED"}}
	for _, k := range keys {
		t.add(k.ID, k.Name, dash(k.Role), yesNo(k.Locked), yesNo(k.Disabled), tsp(k.ExpiresAt), k.Hint, ts(k.CreatedAt))
	}
	return t
}

func leakTable(rs []client.LeakResult) *table {
	t := &table{headers: []string{"#", "MATCHED", "ID", "HINT", "ACTION"}}
	for _, r := range rs {
		t.add(strconv.Itoa(r.Index), yesNo(r.Matched), dash(r.ID), dash(r.Hint), dash(r.Action))
	}
	return t
}

func serviceIDTable(ss []client.ServiceID) *table {
	t := &table{headers: []string{"ID", "NAME", "IAM ID", "LOCKED", "DESCRIPTION", "CREATED"}}
	for _, s := range ss {
		t.add(s.ID, s.Name, s.IAMID, yesNo(s.Locked), dash(s.Description), ts(s.CreatedAt))
	}
	return t
}

func userTable(us []client.User) *table {
	t := &table{headers: []string{"ID", "USERNAME", "NAME", "EMAIL", "DISABLED", "PASSWORD", "CREATED"}}
	for _, u := range us {
		t.add(u.ID, u.Username, dash(u.Name), dash(u.Email), yesNo(u.Disabled), yesNo(u.PasswordSet), ts(u.CreatedAt))
	}
	return t
}

func policyTable(ps []client.Policy) *table {
	t := &table{headers: []string{"ID", "SUBJECT", "ROLE", "SCOPE", "CREATED"}}
	for _, p := range ps {
		scope := "account"
		if p.Resource.Org != "" {
			scope = "org " + p.Resource.OrgName
			if p.Resource.OrgName == "" {
				scope = "org " + p.Resource.Org
			}
		}
		t.add(p.ID, p.Subject, p.Role, scope, ts(p.CreatedAt))
	}
	return t
}

func auditTable(es []client.AuditEntry) *table {
	t := &table{headers: []string{"SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "SOURCE"}}
	for _, a := range es {
		t.add(strconv.FormatInt(a.Seq, 10), ts(a.Time), dash(a.Actor.IAMID), a.Action, dash(a.Target), a.Outcome, dash(a.SourceIP))
	}
	return t
}

func verifyTable(v *client.AuditVerification) *table {
	t := &table{headers: []string{"OK", "ENTRIES", "HEAD", "BROKEN AT", "REASON"}}
	broken := "-"
	if v.BrokenAt != 0 {
		broken = strconv.FormatInt(v.BrokenAt, 10)
	}
	t.add(yesNo(v.OK), strconv.FormatInt(v.Entries, 10), dash(v.Head), broken, dash(v.Reason))
	return t
}

func orgTable(os []client.Org) *table {
	t := &table{headers: []string{"ID", "NAME", "TITLE", "CREATED"}}
	for _, o := range os {
		t.add(o.ID, o.Name, dash(o.Title), ts(o.CreatedAt))
	}
	return t
}

func catalogTable(es []client.Environment) *table {
	t := &table{headers: []string{"ID", "NAME", "TITLE", "CREATED"}}
	for _, e := range es {
		t.add(e.ID, e.Name, dash(e.Title), ts(e.CreatedAt))
	}
	return t
}

func draftTable(ds []client.Draft, withBasePath bool) *table {
	t := &table{headers: []string{"ID", "NAME", "VERSION", "TITLE"}}
	if withBasePath {
		t.headers = append(t.headers, "BASE PATH")
	}
	t.headers = append(t.headers, "UPDATED")
	for _, d := range ds {
		row := []string{d.ID, d.Name, d.Version, dash(d.Title)}
		if withBasePath {
			bp := "-"
			if d.BasePath != nil {
				bp = *d.BasePath
				if bp == "" {
					bp = "/"
				}
			}
			row = append(row, bp)
		}
		t.add(append(row, ts(d.UpdatedAt))...)
	}
	return t
}

func publicationTable(ps []client.Publication) *table {
	t := &table{headers: []string{"ID", "NAME", "VERSION", "STATE", "PLANS", "APIS", "PUBLISHED"}}
	for _, p := range ps {
		var plans, apis []string
		for _, pl := range p.Plans {
			plans = append(plans, pl.Name)
		}
		for _, a := range p.APIs {
			apis = append(apis, a.Name+":"+a.Version)
		}
		t.add(p.ID, p.Name, p.Version, p.State, dash(strings.Join(plans, ",")), dash(strings.Join(apis, ",")), ts(p.PublishedAt))
	}
	return t
}

func consumerOrgTable(cs []client.ConsumerOrg) *table {
	t := &table{headers: []string{"ID", "NAME", "TITLE", "CREATED"}}
	for _, c := range cs {
		t.add(c.ID, c.Name, dash(c.Title), ts(c.CreatedAt))
	}
	return t
}

func appTable(as []client.App) *table {
	t := &table{headers: []string{"ID", "NAME", "DESCRIPTION", "CONSUMER ORG", "CREATED"}}
	for _, a := range as {
		t.add(a.ID, a.Name, dash(a.Description), a.ConsumerOrgID, ts(a.CreatedAt))
	}
	return t
}

func credentialTable(cs []client.Credential) *table {
	t := &table{headers: []string{"CLIENT ID", "SECRET", "CREATED", "UPDATED"}}
	for _, c := range cs {
		secret := dash(c.SecretHint)
		if c.ClientSecret != "" {
			secret = c.ClientSecret
		}
		t.add(c.ClientID, secret, ts(c.CreatedAt), ts(c.UpdatedAt))
	}
	return t
}

func subscriptionTable(ss []client.Subscription) *table {
	t := &table{headers: []string{"ID", "APP", "PRODUCT", "PLAN", "STATE", "APPROVED", "CREATED"}}
	for _, s := range ss {
		t.add(s.ID, s.AppID, s.Product, s.Plan, s.State, yesNo(s.Approved), ts(s.CreatedAt))
	}
	return t
}

func eventTable(es []client.Event) *table {
	t := &table{headers: []string{"TIME", "STATUS", "API", "OPERATION", "LATENCY MS", "APP", "PRODUCT", "PLAN", "LIMITED", "REQUEST ID"}}
	for _, ev := range es {
		t.add(ts(ev.Time), strconv.Itoa(ev.Status), dash(ev.API), dash(ev.Operation), ms(ev.LatencyMS),
			dash(ev.AppID), dash(ev.Product), dash(ev.Plan), yesNo(ev.RateLimited), ev.RequestID)
	}
	return t
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// analyticsTable has a line per interval, then the totals of each API and app.
func analyticsTable(a *client.Analytics) *table {
	t := &table{headers: []string{"GROUP", "START / NAME", "CALLS", "2XX", "3XX", "4XX", "5XX", "P50 MS", "P95 MS", "P99 MS"}}
	row := func(group, name string, calls int, by map[string]int, l client.Percentiles) {
		t.add(group, name, strconv.Itoa(calls), strconv.Itoa(by["2xx"]), strconv.Itoa(by["3xx"]),
			strconv.Itoa(by["4xx"]), strconv.Itoa(by["5xx"]), ms(l.P50), ms(l.P95), ms(l.P99))
	}
	for _, b := range a.Buckets {
		if b.Calls > 0 {
			row("interval", ts(b.Start), b.Calls, b.ByStatus, b.Latency)
		}
	}
	groups := func(kind string, gs []client.AnalyticsGroup) {
		gs = append([]client.AnalyticsGroup(nil), gs...)
		sort.SliceStable(gs, func(i, j int) bool { return gs[i].Calls > gs[j].Calls })
		for _, g := range gs {
			row(kind, g.Name, g.Calls, g.ByStatus, g.Latency)
		}
	}
	groups("api", a.ByAPI)
	groups("app", a.ByApp)
	return t
}
