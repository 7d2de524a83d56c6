package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	selectCredential  = `SELECT ` + credentialCols + ` FROM credentials WHERE client_id = $1`
	selectSub         = `SELECT ` + subCols + ` FROM subscriptions WHERE id = $1`
	// An id that is also another record's name finds the one with the id.
	selectConsumerOrgByRef = `SELECT ` + consumerOrgCols + ` FROM consumer_orgs WHERE env_id = $1 AND (id = $2 OR name = $2)
		ORDER BY id = $2 DESC LIMIT 1`
	selectAppByRef = `SELECT ` + appCols + ` FROM apps WHERE consumer_org_id = $1 AND (id = $2 OR name = $2)
		ORDER BY id = $2 DESC LIMIT 1`
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
// creates check, in their transaction, that the parent exists with the same
// ancestry, so the copies can never disagree and the cascades and the
// gateway's snapshot can select by env_id or account_id alone. A parent that
// exists under other ancestors is not found.
//
// The check locks the parent row FOR KEY SHARE until the commit: a delete
// of the parent on another node waits for the create and then deletes the
// new record with the rest, or, if it came first, makes the check find
// nothing. The cascades delete parents before children for the same reason.

// CreateConsumerOrg creates c in its catalog, logging a store.ChangeConsumer
// keyed by its id. Errors: store.ErrNotFound when the environment c.EnvID
// does not exist in the org c.OrgID of the account c.AccountID;
// store.ErrAlreadyExists for a duplicate id or a name taken in the catalog.
func (s *Store) CreateConsumerOrg(ctx context.Context, c store.ConsumerOrg) error {
	return s.write(ctx, "create consumer org", func(t *txn) error {
		if err := exists(ctx, t, `SELECT 1 FROM environments WHERE id = $1 AND org_id = $2 AND account_id = $3 FOR KEY SHARE`,
			c.EnvID, c.OrgID, c.AccountID); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, insertConsumerOrg, c.ID, c.AccountID, c.OrgID, c.EnvID, c.Name, c.Title,
			c.CreatedBy, micros(c.CreatedAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, c.ID)
		return nil
	})
}

// GetConsumerOrg finds a consumer org of the catalog by id or, failing that,
// by name; store.ErrNotFound when absent.
func (s *Store) GetConsumerOrg(ctx context.Context, envID, ref string) (store.ConsumerOrg, error) {
	c, err := scanConsumerOrg(s.pool.QueryRow(ctx, selectConsumerOrgByRef, envID, ref))
	return c, s.wrap("get consumer org", err)
}

// ListConsumerOrgs lists a catalog's consumer orgs ordered by name; p.After
// is a name.
func (s *Store) ListConsumerOrgs(ctx context.Context, envID string, p store.Page) ([]store.ConsumerOrg, error) {
	cs, err := list(ctx, s.pool, scanConsumerOrg, `SELECT `+consumerOrgCols+` FROM consumer_orgs WHERE env_id = $1 AND name > $2
		ORDER BY name LIMIT $3`, envID, p.After, pageLimit(p.Limit))
	return cs, s.wrap("list consumer orgs", err)
}

// DeleteConsumerOrg deletes the consumer org with the given id (ids only)
// with its apps and their credentials and subscriptions, logging a
// store.ChangeConsumer for each record; store.ErrNotFound when absent.
func (s *Store) DeleteConsumerOrg(ctx context.Context, id string) error {
	return s.write(ctx, "delete consumer org", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM consumer_orgs WHERE id = $1`, id); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, id)
		apps, err := deleteReturning(ctx, t, `DELETE FROM apps WHERE consumer_org_id = $1 RETURNING id`, id)
		if err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, apps...)
		return deleteLogged(ctx, t, apps,
			cascade{`DELETE FROM credentials WHERE app_id = ANY($1) RETURNING client_id`, store.ChangeConsumer},
			cascade{`DELETE FROM subscriptions WHERE app_id = ANY($1) RETURNING id`, store.ChangeConsumer},
		)
	})
}

// cascade is one step of a cascading delete: a DELETE … RETURNING of the
// deleted records' change keys, taking the parent's id (or ids) as its one
// argument, and the kind of change to log for each.
type cascade struct{ q, kind string }

// deleteLogged runs the steps in order for the parent and logs a change for
// each record deleted.
func deleteLogged(ctx context.Context, t *txn, parent any, steps ...cascade) error {
	for _, c := range steps {
		keys, err := deleteReturning(ctx, t, c.q, parent)
		if err != nil {
			return err
		}
		t.logChange(c.kind, keys...)
	}
	return nil
}

// deleteCatalogContents deletes what lives in a catalog being deleted, parents
// first: its consumer orgs, apps, credentials, subscriptions and
// publications, logging a change for each. Gateway events are left to
// retention.
func deleteCatalogContents(ctx context.Context, t *txn, envID string) error {
	return deleteLogged(ctx, t, envID,
		cascade{`DELETE FROM consumer_orgs WHERE env_id = $1 RETURNING id`, store.ChangeConsumer},
		cascade{`DELETE FROM apps WHERE env_id = $1 RETURNING id`, store.ChangeConsumer},
		cascade{`DELETE FROM credentials WHERE env_id = $1 RETURNING client_id`, store.ChangeConsumer},
		cascade{`DELETE FROM subscriptions WHERE env_id = $1 RETURNING id`, store.ChangeConsumer},
		cascade{`DELETE FROM publications WHERE env_id = $1 RETURNING id`, store.ChangePublish},
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
		return fmt.Errorf("postgres: create app: credential %q belongs to app %q in environment %q, not to the app created",
			first.ClientID, first.AppID, first.EnvID)
	}
	return s.write(ctx, "create app", func(t *txn) error {
		if err := exists(ctx, t, `SELECT 1 FROM consumer_orgs WHERE id = $1 AND env_id = $2 AND org_id = $3 AND account_id = $4
			FOR KEY SHARE`, a.ConsumerOrgID, a.EnvID, a.OrgID, a.AccountID); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, insertApp, a.ID, a.AccountID, a.OrgID, a.EnvID, a.ConsumerOrgID, a.Name,
			a.Description, a.CreatedBy, micros(a.CreatedAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, a.ID)
		return createCredential(ctx, t, first)
	})
}

// GetApp finds an app of the consumer org by id or, failing that, by name;
// store.ErrNotFound when absent.
func (s *Store) GetApp(ctx context.Context, consumerOrgID, ref string) (store.App, error) {
	a, err := scanApp(s.pool.QueryRow(ctx, selectAppByRef, consumerOrgID, ref))
	return a, s.wrap("get app", err)
}

// consumerQuery is q as conditions; AppID filters on idCol.
func consumerQuery(q store.ConsumerQuery, idCol string, a *args) []string {
	conds := []string{"id > " + a.add(q.Page.After)}
	for _, f := range []struct{ col, val string }{{"env_id", q.EnvID}, {"consumer_org_id", q.ConsumerOrgID}, {idCol, q.AppID}} {
		if f.val != "" {
			conds = append(conds, f.col+" = "+a.add(f.val))
		}
	}
	return conds
}

// ListApps lists the apps matching q ordered by id; q.AppID selects one app.
func (s *Store) ListApps(ctx context.Context, q store.ConsumerQuery) ([]store.App, error) {
	var a args
	conds := consumerQuery(q, "id", &a)
	query := `SELECT ` + appCols + ` FROM apps` + where(conds) + ` ORDER BY id LIMIT ` + a.add(pageLimit(q.Page.Limit))
	as, err := list(ctx, s.pool, scanApp, query, a...)
	return as, s.wrap("list apps", err)
}

// DeleteApp deletes the app with the given id (ids only) with its
// credentials and subscriptions, logging a store.ChangeConsumer for each;
// store.ErrNotFound when absent.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	return s.write(ctx, "delete app", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM apps WHERE id = $1`, id); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, id)
		return deleteLogged(ctx, t, id,
			cascade{`DELETE FROM credentials WHERE app_id = $1 RETURNING client_id`, store.ChangeConsumer},
			cascade{`DELETE FROM subscriptions WHERE app_id = $1 RETURNING id`, store.ChangeConsumer},
		)
	})
}

// CreateCredential adds c to its app, logging a store.ChangeConsumer keyed by
// the client id. Errors: store.ErrNotFound when the app c.AppID does not
// exist in the environment c.EnvID; store.ErrAlreadyExists when the client
// id is taken.
func (s *Store) CreateCredential(ctx context.Context, c store.Credential) error {
	return s.write(ctx, "create credential", func(t *txn) error {
		if err := exists(ctx, t, `SELECT 1 FROM apps WHERE id = $1 AND env_id = $2 FOR KEY SHARE`, c.AppID, c.EnvID); err != nil {
			return err
		}
		return createCredential(ctx, t, c)
	})
}

func createCredential(ctx context.Context, t *txn, c store.Credential) error {
	if _, err := t.Exec(ctx, insertCredential, c.ClientID, c.AppID, c.EnvID, blob(c.SecretDigest), c.SecretHint,
		micros(c.CreatedAt), micros(c.ModifiedAt)); err != nil {
		return err
	}
	t.logChange(store.ChangeConsumer, c.ClientID)
	return nil
}

// GetCredential finds a credential by client id; store.ErrNotFound when absent.
func (s *Store) GetCredential(ctx context.Context, clientID string) (store.Credential, error) {
	c, err := scanCredential(s.pool.QueryRow(ctx, selectCredential, clientID))
	return c, s.wrap("get credential", err)
}

// ListCredentials lists an app's credentials, oldest first (ties by client
// id); none for an app that does not exist.
func (s *Store) ListCredentials(ctx context.Context, appID string) ([]store.Credential, error) {
	cs, err := list(ctx, s.pool, scanCredential, `SELECT `+credentialCols+` FROM credentials WHERE app_id = $1
		ORDER BY created_at, client_id`, appID)
	return cs, s.wrap("list credentials", err)
}

// UpdateCredential applies fn to the credential and stores its SecretDigest,
// SecretHint and ModifiedAt (the client id, app, environment and creation
// time are kept whatever fn does), logging a store.ChangeConsumer. An error
// from fn is returned as is; store.ErrNotFound when absent.
func (s *Store) UpdateCredential(ctx context.Context, clientID string, fn func(c *store.Credential) error) (store.Credential, error) {
	var out store.Credential
	err := s.write(ctx, "update credential", func(t *txn) error {
		c, err := scanCredential(t.QueryRow(ctx, selectCredential+` FOR UPDATE`, clientID))
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return fnError{err}
		}
		if out, err = scanCredential(t.QueryRow(ctx, `UPDATE credentials SET secret_digest = $1, secret_hint = $2,
			modified_at = $3 WHERE client_id = $4 RETURNING `+credentialCols,
			blob(c.SecretDigest), c.SecretHint, micros(c.ModifiedAt), clientID)); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, clientID)
		return nil
	})
	return out, err
}

// DeleteCredential returns store.ErrNotFound when absent. Deleting an app's
// last credential is allowed here; whether it should be is the service's call.
func (s *Store) DeleteCredential(ctx context.Context, clientID string) error {
	return s.write(ctx, "delete credential", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM credentials WHERE client_id = $1`, clientID); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, clientID)
		return nil
	})
}

// CreateSubscription creates v, logging a store.ChangeConsumer keyed by its
// id. Whether the product is published, and in which state the subscription
// starts, is the service's business. Errors: store.ErrNotFound when the app
// v.AppID does not exist in v's consumer org, environment, org and account;
// store.ErrAlreadyExists for a duplicate id or when the app already has a
// subscription to the product name and version (whatever the plan).
func (s *Store) CreateSubscription(ctx context.Context, v store.Subscription) error {
	return s.write(ctx, "create subscription", func(t *txn) error {
		if err := exists(ctx, t, `SELECT 1 FROM apps WHERE id = $1 AND consumer_org_id = $2 AND env_id = $3
			AND org_id = $4 AND account_id = $5 FOR KEY SHARE`, v.AppID, v.ConsumerOrgID, v.EnvID, v.OrgID, v.AccountID); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, insertSub, v.ID, v.AccountID, v.OrgID, v.EnvID, v.AppID, v.ConsumerOrgID,
			v.ProductName, v.ProductVersion, v.Plan, v.Approved, v.State, v.CreatedBy, micros(v.CreatedAt),
			v.ApprovedBy, micros(v.ApprovedAt)); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, v.ID)
		return nil
	})
}

// GetSubscription finds a subscription by id; store.ErrNotFound when absent.
func (s *Store) GetSubscription(ctx context.Context, id string) (store.Subscription, error) {
	v, err := scanSub(s.pool.QueryRow(ctx, selectSub, id))
	return v, s.wrap("get subscription", err)
}

// ListSubscriptions lists the subscriptions matching q ordered by id.
func (s *Store) ListSubscriptions(ctx context.Context, q store.ConsumerQuery) ([]store.Subscription, error) {
	var a args
	conds := consumerQuery(q, "app_id", &a)
	query := `SELECT ` + subCols + ` FROM subscriptions` + where(conds) + ` ORDER BY id LIMIT ` + a.add(pageLimit(q.Page.Limit))
	vs, err := list(ctx, s.pool, scanSub, query, a...)
	return vs, s.wrap("list subscriptions", err)
}

// UpdateSubscription applies fn to the subscription and stores its Plan,
// Approved, State, ApprovedBy and ApprovedAt; everything else (id, account,
// org, environment, consumer org, app, product, creator and creation time)
// is kept whatever fn does. It logs a store.ChangeConsumer. An error from fn
// is returned as is; store.ErrNotFound when absent.
func (s *Store) UpdateSubscription(ctx context.Context, id string, fn func(v *store.Subscription) error) (store.Subscription, error) {
	var out store.Subscription
	err := s.write(ctx, "update subscription", func(t *txn) error {
		v, err := scanSub(t.QueryRow(ctx, selectSub+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return fnError{err}
		}
		if out, err = scanSub(t.QueryRow(ctx, `UPDATE subscriptions SET plan = $1, approved = $2, state = $3,
			approved_by = $4, approved_at = $5 WHERE id = $6 RETURNING `+subCols,
			v.Plan, v.Approved, v.State, v.ApprovedBy, micros(v.ApprovedAt), id)); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, id)
		return nil
	})
	return out, err
}

// DeleteSubscription returns store.ErrNotFound when absent.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.write(ctx, "delete subscription", func(t *txn) error {
		if err := deleteOne(ctx, t, `DELETE FROM subscriptions WHERE id = $1`, id); err != nil {
			return err
		}
		t.logChange(store.ChangeConsumer, id)
		return nil
	})
}

// The gateway's snapshot, one query per record type, each answered from an
// account index. Credentials carry no account and are reached through their
// apps.
var (
	gatewayEnvs = `SELECT ` + envCols + ` FROM environments WHERE account_id = $1 ORDER BY org_id, name`
	gatewayOrgs = `SELECT ` + orgCols + ` FROM orgs WHERE account_id = $1 ORDER BY name`
	gatewayPubs = `SELECT ` + pubCols + ` FROM publications WHERE account_id = $1 AND state IN ('published', 'deprecated')
		ORDER BY env_id, product_name, product_version`
	gatewayApps  = `SELECT ` + appCols + ` FROM apps WHERE account_id = $1 ORDER BY id`
	gatewayCreds = `SELECT c.client_id, c.app_id, c.env_id, c.secret_digest, c.secret_hint, c.created_at, c.modified_at
		FROM apps a JOIN credentials c ON c.app_id = a.id WHERE a.account_id = $1 ORDER BY a.id, c.created_at, c.client_id`
	gatewaySubs = `SELECT ` + subCols + ` FROM subscriptions WHERE account_id = $1 ORDER BY id`
)

// GatewayState reads the account's environments, orgs, live publications
// (state "published" or "deprecated"), apps, credentials and subscriptions
// in one REPEATABLE READ, READ ONLY transaction, so all six come from one
// snapshot of the database: every credential's app and every subscription's
// app are in the same state, as are every publication's environment and
// org. The six queries go to the server in one round trip. The GatewayState
// has no consumer orgs (apps carry ConsumerOrgID). Each list is in a fixed
// order, the one its index gives most cheaply: environments by org id and
// name, orgs by name, publications by environment id and product, apps and
// subscriptions by id, credentials by app id and then oldest first. An
// unknown account has an empty state.
func (s *Store) GatewayState(ctx context.Context, accountID string) (store.GatewayState, error) {
	var st store.GatewayState
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(t *txn) error {
		b := &pgx.Batch{}
		queueList(b, &st.Envs, scanEnv, gatewayEnvs, accountID)
		queueList(b, &st.Orgs, scanOrg, gatewayOrgs, accountID)
		queueList(b, &st.Publications, scanPublication, gatewayPubs, accountID)
		queueList(b, &st.Apps, scanApp, gatewayApps, accountID)
		queueList(b, &st.Credentials, scanCredential, gatewayCreds, accountID)
		queueList(b, &st.Subscriptions, scanSub, gatewaySubs, accountID)
		return t.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return store.GatewayState{}, s.wrap("gateway state", err)
	}
	return st, nil
}

// queueList queues a query on b whose rows are scanned into *dst.
func queueList[T any](b *pgx.Batch, dst *[]T, scan func(scanner) (T, error), sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			*dst = append(*dst, v)
		}
		return rows.Err()
	})
}
