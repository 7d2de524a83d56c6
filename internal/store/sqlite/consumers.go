package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"gatehouse/internal/store"
)

const (
	consumerOrgCols = `id, account_id, org_id, env_id, name, title, created_by, created_at`
	appCols         = `id, account_id, org_id, env_id, consumer_org_id, name, description, created_by, created_at`
	credentialCols  = `client_id, app_id, env_id, secret_digest, secret_hint, created_at, modified_at`
	subCols         = `id, account_id, org_id, env_id, app_id, consumer_org_id, product_name, product_version, plan,
	approved, state, created_by, created_at, approved_by, approved_at`
)

var (
	insertConsumerOrg = insertSQL("consumer_orgs", consumerOrgCols)
	insertApp         = insertSQL("apps", appCols)
	insertCredential  = insertSQL("credentials", credentialCols)
	insertSub         = insertSQL("subscriptions", subCols)
	selectCredential  = `SELECT ` + credentialCols + ` FROM credentials WHERE client_id = ?`
	selectSub         = `SELECT ` + subCols + ` FROM subscriptions WHERE id = ?`
	// An id that is also another record's name finds the one with the id.
	selectConsumerOrgByRef = `SELECT ` + consumerOrgCols + ` FROM consumer_orgs WHERE env_id = ?1 AND (id = ?2 OR name = ?2)
		ORDER BY id = ?2 DESC LIMIT 1`
	selectAppByRef = `SELECT ` + appCols + ` FROM apps WHERE consumer_org_id = ?1 AND (id = ?2 OR name = ?2)
		ORDER BY id = ?2 DESC LIMIT 1`
)

func scanConsumerOrg(sc scanner) (store.ConsumerOrg, error) {
	var c store.ConsumerOrg
	err := sc.Scan(&c.ID, &c.AccountID, &c.OrgID, &c.EnvID, &c.Name, &c.Title, &c.CreatedBy, timeCol{&c.CreatedAt})
	return c, err
}

func scanApp(sc scanner) (store.App, error) {
	var a store.App
	err := sc.Scan(&a.ID, &a.AccountID, &a.OrgID, &a.EnvID, &a.ConsumerOrgID, &a.Name, &a.Description, &a.CreatedBy,
		timeCol{&a.CreatedAt})
	return a, err
}

func scanCredential(sc scanner) (store.Credential, error) {
	var c store.Credential
	err := sc.Scan(&c.ClientID, &c.AppID, &c.EnvID, &c.SecretDigest, &c.SecretHint, timeCol{&c.CreatedAt},
		timeCol{&c.ModifiedAt})
	return c, err
}

func scanSub(sc scanner) (store.Subscription, error) {
	var v store.Subscription
	err := sc.Scan(&v.ID, &v.AccountID, &v.OrgID, &v.EnvID, &v.AppID, &v.ConsumerOrgID, &v.ProductName,
		&v.ProductVersion, &v.Plan, &v.Approved, &v.State, &v.CreatedBy, timeCol{&v.CreatedAt}, &v.ApprovedBy,
		timeCol{&v.ApprovedAt})
	return v, err
}

// Each consumer record names its parents down from the account (a
// subscription: account, org, environment, consumer org and app). The
// creates check, in their write transaction, that the parent exists with the
// same ancestry, so the copies can never disagree and the cascades and the
// gateway's snapshot can select by env_id or account_id alone. A parent that
// exists under other ancestors is not found.

// CreateConsumerOrg creates c in its catalog, logging a store.ChangeConsumer
// keyed by its id. Errors: store.ErrNotFound when the environment c.EnvID
// does not exist in the org c.OrgID of the account c.AccountID;
// store.ErrAlreadyExists for a duplicate id or a name taken in the catalog.
func (s *Store) CreateConsumerOrg(ctx context.Context, c store.ConsumerOrg) error {
	return s.write(ctx, "create consumer org", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM environments WHERE id = ? AND org_id = ? AND account_id = ?`,
			c.EnvID, c.OrgID, c.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertConsumerOrg, c.ID, c.AccountID, c.OrgID, c.EnvID, c.Name, c.Title,
			c.CreatedBy, micros(c.CreatedAt)); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeConsumer, c.ID)
	})
}

// exists returns sql.ErrNoRows unless q finds a row.
func exists(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	var one int
	return tx.QueryRowContext(ctx, q, args...).Scan(&one)
}

// GetConsumerOrg finds a consumer org of the catalog by id or, failing that,
// by name; store.ErrNotFound when absent.
func (s *Store) GetConsumerOrg(ctx context.Context, envID, ref string) (store.ConsumerOrg, error) {
	c, err := scanConsumerOrg(s.row(ctx, selectConsumerOrgByRef, envID, ref))
	return c, s.wrap("get consumer org", err)
}

// ListConsumerOrgs lists a catalog's consumer orgs ordered by name; p.After
// is a name.
func (s *Store) ListConsumerOrgs(ctx context.Context, envID string, p store.Page) ([]store.ConsumerOrg, error) {
	cs, err := list(ctx, s, scanConsumerOrg, `SELECT `+consumerOrgCols+` FROM consumer_orgs WHERE env_id = ? AND name > ?
		ORDER BY name LIMIT ?`, envID, p.After, pageLimit(p.Limit))
	return cs, s.wrap("list consumer orgs", err)
}

// DeleteConsumerOrg deletes the consumer org with the given id (ids only)
// with its apps and their credentials and subscriptions, logging a
// store.ChangeConsumer for each record; store.ErrNotFound when absent.
func (s *Store) DeleteConsumerOrg(ctx context.Context, id string) error {
	return s.write(ctx, "delete consumer org", func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM consumer_orgs WHERE id = ?`, id); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeConsumer, id); err != nil {
			return err
		}
		const apps = `SELECT id FROM apps WHERE consumer_org_id = ?`
		return s.deleteLogged(ctx, tx, id,
			cascade{`DELETE FROM credentials WHERE app_id IN (` + apps + `) RETURNING client_id`, store.ChangeConsumer},
			cascade{`DELETE FROM subscriptions WHERE app_id IN (` + apps + `) RETURNING id`, store.ChangeConsumer},
			cascade{`DELETE FROM apps WHERE consumer_org_id = ? RETURNING id`, store.ChangeConsumer},
		)
	})
}

// cascade is one step of a cascading delete: a DELETE … RETURNING of the
// deleted records' change keys, taking the parent's id as its one argument,
// and the kind of change to log for each.
type cascade struct{ q, kind string }

// deleteLogged runs the steps in order for the parent id and logs a change
// for each record deleted.
func (s *Store) deleteLogged(ctx context.Context, tx *sql.Tx, parent string, steps ...cascade) error {
	for _, c := range steps {
		keys, err := deleteReturning(ctx, tx, c.q, parent)
		if err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, c.kind, keys...); err != nil {
			return err
		}
	}
	return nil
}

// deleteCatalogContents deletes what lives in a catalog being deleted: its
// publications, consumer orgs, apps, credentials and subscriptions, logging
// a change for each. Gateway events are left to retention.
func (s *Store) deleteCatalogContents(ctx context.Context, tx *sql.Tx, envID string) error {
	return s.deleteLogged(ctx, tx, envID,
		cascade{`DELETE FROM credentials WHERE env_id = ? RETURNING client_id`, store.ChangeConsumer},
		cascade{`DELETE FROM subscriptions WHERE env_id = ? RETURNING id`, store.ChangeConsumer},
		cascade{`DELETE FROM apps WHERE env_id = ? RETURNING id`, store.ChangeConsumer},
		cascade{`DELETE FROM consumer_orgs WHERE env_id = ? RETURNING id`, store.ChangeConsumer},
		cascade{`DELETE FROM publications WHERE env_id = ? RETURNING id`, store.ChangePublish},
	)
}

// CreateApp creates a with its first credential in one transaction, or
// neither, logging a store.ChangeConsumer for each (the credential's keyed by
// its client id). first must belong to a (its AppID and EnvID). Errors:
// store.ErrNotFound when the consumer org a.ConsumerOrgID does not exist in
// a's environment, org and account; store.ErrAlreadyExists for a duplicate
// id, a name taken in the consumer org, or a client id taken anywhere.
func (s *Store) CreateApp(ctx context.Context, a store.App, first store.Credential) error {
	if first.AppID != a.ID || first.EnvID != a.EnvID {
		return fmt.Errorf("sqlite: create app: credential %q belongs to app %q in environment %q, not to the app created",
			first.ClientID, first.AppID, first.EnvID)
	}
	return s.write(ctx, "create app", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM consumer_orgs WHERE id = ? AND env_id = ? AND org_id = ? AND account_id = ?`,
			a.ConsumerOrgID, a.EnvID, a.OrgID, a.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertApp, a.ID, a.AccountID, a.OrgID, a.EnvID, a.ConsumerOrgID, a.Name,
			a.Description, a.CreatedBy, micros(a.CreatedAt)); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeConsumer, a.ID); err != nil {
			return err
		}
		return s.createCredential(ctx, tx, first)
	})
}

// GetApp finds an app of the consumer org by id or, failing that, by name;
// store.ErrNotFound when absent.
func (s *Store) GetApp(ctx context.Context, consumerOrgID, ref string) (store.App, error) {
	a, err := scanApp(s.row(ctx, selectAppByRef, consumerOrgID, ref))
	return a, s.wrap("get app", err)
}

// consumerQuery is q as conditions; AppID filters on idCol.
func consumerQuery(q store.ConsumerQuery, idCol string) ([]string, []any) {
	conds := []string{"id > ?"}
	args := []any{q.Page.After}
	for _, f := range []struct{ col, val string }{{"env_id", q.EnvID}, {"consumer_org_id", q.ConsumerOrgID}, {idCol, q.AppID}} {
		if f.val != "" {
			conds = append(conds, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	return conds, args
}

// ListApps lists the apps matching q ordered by id; q.AppID selects one app.
func (s *Store) ListApps(ctx context.Context, q store.ConsumerQuery) ([]store.App, error) {
	conds, args := consumerQuery(q, "id")
	as, err := list(ctx, s, scanApp, `SELECT `+appCols+` FROM apps`+where(conds)+` ORDER BY id LIMIT ?`,
		append(args, pageLimit(q.Page.Limit))...)
	return as, s.wrap("list apps", err)
}

// DeleteApp deletes the app with the given id (ids only) with its
// credentials and subscriptions, logging a store.ChangeConsumer for each;
// store.ErrNotFound when absent.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	return s.write(ctx, "delete app", func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM apps WHERE id = ?`, id); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeConsumer, id); err != nil {
			return err
		}
		return s.deleteLogged(ctx, tx, id,
			cascade{`DELETE FROM credentials WHERE app_id = ? RETURNING client_id`, store.ChangeConsumer},
			cascade{`DELETE FROM subscriptions WHERE app_id = ? RETURNING id`, store.ChangeConsumer},
		)
	})
}

// CreateCredential adds c to its app, logging a store.ChangeConsumer keyed by
// the client id. Errors: store.ErrNotFound when the app c.AppID does not
// exist in the environment c.EnvID; store.ErrAlreadyExists when the client
// id is taken.
func (s *Store) CreateCredential(ctx context.Context, c store.Credential) error {
	return s.write(ctx, "create credential", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM apps WHERE id = ? AND env_id = ?`, c.AppID, c.EnvID); err != nil {
			return err
		}
		return s.createCredential(ctx, tx, c)
	})
}

func (s *Store) createCredential(ctx context.Context, tx *sql.Tx, c store.Credential) error {
	if _, err := tx.ExecContext(ctx, insertCredential, c.ClientID, c.AppID, c.EnvID, c.SecretDigest, c.SecretHint,
		micros(c.CreatedAt), micros(c.ModifiedAt)); err != nil {
		return err
	}
	return s.logChange(ctx, tx, store.ChangeConsumer, c.ClientID)
}

// GetCredential finds a credential by client id; store.ErrNotFound when absent.
func (s *Store) GetCredential(ctx context.Context, clientID string) (store.Credential, error) {
	c, err := scanCredential(s.row(ctx, selectCredential, clientID))
	return c, s.wrap("get credential", err)
}

// ListCredentials lists an app's credentials, oldest first (ties by client
// id); none for an app that does not exist.
func (s *Store) ListCredentials(ctx context.Context, appID string) ([]store.Credential, error) {
	cs, err := list(ctx, s, scanCredential, `SELECT `+credentialCols+` FROM credentials WHERE app_id = ?
		ORDER BY created_at, client_id`, appID)
	return cs, s.wrap("list credentials", err)
}

// UpdateCredential applies fn to the credential and stores its SecretDigest,
// SecretHint and ModifiedAt (the client id, app, environment and creation
// time are kept whatever fn does), logging a store.ChangeConsumer. An error
// from fn is returned as is; store.ErrNotFound when absent.
func (s *Store) UpdateCredential(ctx context.Context, clientID string, fn func(c *store.Credential) error) (store.Credential, error) {
	var out store.Credential
	err := s.write(ctx, "update credential", func(tx *sql.Tx) error {
		c, err := scanCredential(tx.QueryRowContext(ctx, selectCredential, clientID))
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return fnError{err}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET secret_digest = ?, secret_hint = ?, modified_at = ?
			WHERE client_id = ?`, c.SecretDigest, c.SecretHint, micros(c.ModifiedAt), clientID); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeConsumer, clientID); err != nil {
			return err
		}
		out, err = scanCredential(tx.QueryRowContext(ctx, selectCredential, clientID))
		return err
	})
	return out, err
}

// DeleteCredential returns store.ErrNotFound when absent. Deleting an app's
// last credential is allowed here; whether it should be is the service's call.
func (s *Store) DeleteCredential(ctx context.Context, clientID string) error {
	return s.write(ctx, "delete credential", func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM credentials WHERE client_id = ?`, clientID); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeConsumer, clientID)
	})
}

// CreateSubscription creates v, logging a store.ChangeConsumer keyed by its
// id. Whether the product is published, and in which state the subscription
// starts, is the service's business. Errors: store.ErrNotFound when the app
// v.AppID does not exist in v's consumer org, environment, org and account;
// store.ErrAlreadyExists for a duplicate id or when the app already has a
// subscription to the product name and version (whatever the plan).
func (s *Store) CreateSubscription(ctx context.Context, v store.Subscription) error {
	return s.write(ctx, "create subscription", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM apps WHERE id = ? AND consumer_org_id = ? AND env_id = ?
			AND org_id = ? AND account_id = ?`, v.AppID, v.ConsumerOrgID, v.EnvID, v.OrgID, v.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertSub, v.ID, v.AccountID, v.OrgID, v.EnvID, v.AppID, v.ConsumerOrgID,
			v.ProductName, v.ProductVersion, v.Plan, v.Approved, v.State, v.CreatedBy, micros(v.CreatedAt),
			v.ApprovedBy, micros(v.ApprovedAt)); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeConsumer, v.ID)
	})
}

// GetSubscription finds a subscription by id; store.ErrNotFound when absent.
func (s *Store) GetSubscription(ctx context.Context, id string) (store.Subscription, error) {
	v, err := scanSub(s.row(ctx, selectSub, id))
	return v, s.wrap("get subscription", err)
}

// ListSubscriptions lists the subscriptions matching q ordered by id.
func (s *Store) ListSubscriptions(ctx context.Context, q store.ConsumerQuery) ([]store.Subscription, error) {
	conds, args := consumerQuery(q, "app_id")
	vs, err := list(ctx, s, scanSub, `SELECT `+subCols+` FROM subscriptions`+where(conds)+` ORDER BY id LIMIT ?`,
		append(args, pageLimit(q.Page.Limit))...)
	return vs, s.wrap("list subscriptions", err)
}

// UpdateSubscription applies fn to the subscription and stores its Plan,
// Approved, State, ApprovedBy and ApprovedAt; everything else (id, account,
// org, environment, consumer org, app, product, creator and creation time)
// is kept whatever fn does. It logs a store.ChangeConsumer. An error from fn
// is returned as is; store.ErrNotFound when absent.
func (s *Store) UpdateSubscription(ctx context.Context, id string, fn func(v *store.Subscription) error) (store.Subscription, error) {
	var out store.Subscription
	err := s.write(ctx, "update subscription", func(tx *sql.Tx) error {
		v, err := scanSub(tx.QueryRowContext(ctx, selectSub, id))
		if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return fnError{err}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET plan = ?, approved = ?, state = ?, approved_by = ?,
			approved_at = ? WHERE id = ?`, v.Plan, v.Approved, v.State, v.ApprovedBy, micros(v.ApprovedAt), id); err != nil {
			return err
		}
		if err := s.logChange(ctx, tx, store.ChangeConsumer, id); err != nil {
			return err
		}
		out, err = scanSub(tx.QueryRowContext(ctx, selectSub, id))
		return err
	})
	return out, err
}

// DeleteSubscription returns store.ErrNotFound when absent.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.write(ctx, "delete subscription", func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM subscriptions WHERE id = ?`, id); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.ChangeConsumer, id)
	})
}

// The gateway's snapshot, one query per record type, each answered from an
// account index. Credentials carry no account and are reached through their
// apps.
var (
	gatewayEnvs = `SELECT ` + envCols + ` FROM environments WHERE account_id = ? ORDER BY org_id, name`
	gatewayOrgs = `SELECT ` + orgCols + ` FROM orgs WHERE account_id = ? ORDER BY name`
	gatewayPubs = `SELECT ` + pubCols + ` FROM publications WHERE account_id = ? AND state IN ('published', 'deprecated')
		ORDER BY env_id, product_name, product_version`
	// The three big tables are read in one pass each, in table order (the
	// unary + keeps SQLite from walking an index and fetching every row by
	// rowid, which with 100k apps cost seconds at start-up), and sorted here
	// into the order the gateway state promises.
	gatewayApps  = `SELECT ` + appCols + ` FROM apps WHERE +account_id = ?`
	gatewayCreds = `SELECT ` + credentialCols + ` FROM credentials
		WHERE +app_id IN (SELECT id FROM apps WHERE +account_id = ?)`
	gatewaySubs = `SELECT ` + subCols + ` FROM subscriptions WHERE +account_id = ?`
)

// GatewayState reads the account's environments, orgs, live publications
// (state "published" or "deprecated"), apps, credentials and subscriptions
// in one read transaction, so all six come from one snapshot of the
// database: every credential's app and every subscription's app are in the
// same state, as are every publication's environment and org. The
// GatewayState has no consumer orgs (apps carry ConsumerOrgID). Each list is
// in a fixed order, the one its index gives most cheaply: environments by
// org id and name, orgs by name, publications by environment id and
// product, apps and subscriptions by id, credentials by app id and then
// oldest first. An unknown account has an empty state.
func (s *Store) GatewayState(ctx context.Context, accountID string) (store.GatewayState, error) {
	st, err := s.gatewayState(ctx, accountID)
	if err != nil {
		return store.GatewayState{}, s.wrap("gateway state", err)
	}
	return st, nil
}

func (s *Store) gatewayState(ctx context.Context, accountID string) (st store.GatewayState, err error) {
	// A deferred (plain BEGIN) transaction on a reader: SQLite takes the WAL
	// snapshot at the first SELECT and keeps it for the rest, and the writer
	// never waits for it.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	if st.Envs, err = txList(ctx, s, tx, scanEnv, gatewayEnvs, accountID); err != nil {
		return st, err
	}
	if st.Orgs, err = txList(ctx, s, tx, scanOrg, gatewayOrgs, accountID); err != nil {
		return st, err
	}
	if st.Publications, err = txList(ctx, s, tx, scanPublication, gatewayPubs, accountID); err != nil {
		return st, err
	}
	if st.Apps, err = txList(ctx, s, tx, scanApp, gatewayApps, accountID); err != nil {
		return st, err
	}
	if st.Credentials, err = txList(ctx, s, tx, scanCredential, gatewayCreds, accountID); err != nil {
		return st, err
	}
	if st.Subscriptions, err = txList(ctx, s, tx, scanSub, gatewaySubs, accountID); err != nil {
		return st, err
	}
	slices.SortFunc(st.Apps, func(a, b store.App) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Credentials, func(a, b store.Credential) int {
		return cmp.Or(strings.Compare(a.AppID, b.AppID), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ClientID, b.ClientID))
	})
	slices.SortFunc(st.Subscriptions, func(a, b store.Subscription) int { return strings.Compare(a.ID, b.ID) })
	return st, tx.Commit()
}

// txList is list inside a read transaction, with the statement from the cache.
func txList[T any](ctx context.Context, s *Store, tx *sql.Tx, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}
