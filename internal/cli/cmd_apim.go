package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gatehouse/client"
)

// where names the place of an API Manager command: a provider org, and for
// most commands a catalog, a consumer org and an app of it.
type where struct {
	org, catalog, corg, app string
}

func (w *where) orgFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.org, "org", "", "the provider org (name or id)")
	cmd.MarkFlagRequired("org")
}

func (w *where) catalogFlags(cmd *cobra.Command) {
	w.orgFlag(cmd)
	cmd.Flags().StringVar(&w.catalog, "catalog", "", "the catalog (name or id; every org has sb, the Sandbox)")
	cmd.MarkFlagRequired("catalog")
}

func (w *where) corgFlags(cmd *cobra.Command) {
	w.catalogFlags(cmd)
	cmd.Flags().StringVar(&w.corg, "consumer-org", "", "the consumer org (name or id)")
	cmd.MarkFlagRequired("consumer-org")
}

func (w *where) appRef(app string) client.AppRef {
	return client.AppRef{Org: w.org, Env: w.catalog, ConsumerOrg: w.corg, App: app}
}

// --- org -------------------------------------------------------------------------------

func orgCmd(e *env) *cobra.Command {
	return group("org", "Manage provider orgs",
		orgCreateCmd(e), orgListCmd(e), orgGetCmd(e), orgUpdateCmd(e), orgDeleteCmd(e))
}

func orgCreateCmd(e *env) *cobra.Command {
	var title string
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a provider org with its Sandbox catalog (sb)",
		Example: `  gatehouse org create acme --title "Acme Climbing"`,
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			o, err := c.CreateOrg(cmd.Context(), a[0], title)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), o, func() *table { return orgTable([]client.Org{*o}) })
		},
	}
	cmd.Flags().StringVar(&title, "title", "", "display title")
	return cmd
}

func orgListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the orgs you can see",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(after string) ([]client.Org, string, error) {
				return c.ListOrgs(cmd.Context(), client.ListOrgsOptions{After: after})
			}, orgTable)
		},
	}
}

func orgGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ORG",
		Short: "Show an org",
		Args:  args("ORG"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			o, err := c.GetOrg(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), o, func() *table { return orgTable([]client.Org{*o}) })
		},
	}
}

func orgUpdateCmd(e *env) *cobra.Command {
	var name, title string
	cmd := &cobra.Command{
		Use:   "update ORG",
		Short: "Rename an org or change its title",
		Args:  args("ORG"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.UpdateOrg
			if cmd.Flags().Changed("name") {
				in.Name = &name
			}
			if cmd.Flags().Changed("title") {
				in.Title = &title
			}
			if in == (client.UpdateOrg{}) {
				return usagef("nothing to change: give --name or --title")
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			cur, err := c.GetOrg(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			tag := cur.EntityTag
			if tag == "" {
				tag = "*"
			}
			o, err := c.UpdateOrg(cmd.Context(), cur.ID, tag, in)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), o, func() *table { return orgTable([]client.Org{*o}) })
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringVar(&title, "title", "", "new title")
	return cmd
}

func orgDeleteCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ORG",
		Short: "Delete an org with its catalogs and org policies",
		Args:  args("ORG"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete org %s with its catalogs and policies?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteOrg(cmd.Context(), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted org %s.\n", a[0])
			return nil
		},
	}
	addYes(cmd, &yes)
	return cmd
}

// --- catalog ---------------------------------------------------------------------------

func catalogCmd(e *env) *cobra.Command {
	return group("catalog", "Manage the catalogs (environments) of an org",
		catalogCreateCmd(e), catalogListCmd(e), catalogGetCmd(e), catalogDeleteCmd(e))
}

func catalogCreateCmd(e *env) *cobra.Command {
	var w where
	var title string
	cmd := &cobra.Command{
		Use:     "create NAME --org ORG",
		Short:   "Add a catalog to an org",
		Example: `  gatehouse catalog create prod --org acme --title Production`,
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			env, err := c.CreateEnvironment(cmd.Context(), w.org, a[0], title)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), env, func() *table { return catalogTable([]client.Environment{*env}) })
		},
	}
	w.orgFlag(cmd)
	cmd.Flags().StringVar(&title, "title", "", "display title")
	return cmd
}

func catalogListCmd(e *env) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   "list --org ORG",
		Short: "List an org's catalogs",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			es, err := c.ListEnvironments(cmd.Context(), w.org)
			if err != nil {
				return err
			}
			if es == nil {
				es = []client.Environment{}
			}
			return render(e.stdout, e.format(), es, func() *table { return catalogTable(es) })
		},
	}
	w.orgFlag(cmd)
	return cmd
}

func catalogGetCmd(e *env) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   "get CATALOG --org ORG",
		Short: "Show a catalog",
		Args:  args("CATALOG"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			env, err := c.GetEnvironment(cmd.Context(), w.org, a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), env, func() *table { return catalogTable([]client.Environment{*env}) })
		},
	}
	w.orgFlag(cmd)
	return cmd
}

func catalogDeleteCmd(e *env) *cobra.Command {
	var w where
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete CATALOG --org ORG",
		Short: "Delete a catalog",
		Args:  args("CATALOG"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete catalog %s of org %s?", a[0], w.org)); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteEnvironment(cmd.Context(), w.org, a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted catalog %s of org %s.\n", a[0], w.org)
			return nil
		},
	}
	w.orgFlag(cmd)
	addYes(cmd, &yes)
	return cmd
}

// --- documents (APIs and products) ---------------------------------------------------------

// readDoc reads an API or product document ("-": stdin) and tells its
// content type: by extension, else by its first character.
func (e *env) readDoc(path string) ([]byte, string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", usagef("%s does not exist", path)
		}
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return data, client.ContentTypeJSON, nil
	case ".yaml", ".yml":
		return data, client.ContentTypeYAML, nil
	}
	if isJSON(data) {
		return data, client.ContentTypeJSON, nil
	}
	return data, client.ContentTypeYAML, nil
}

// printDoc prints a stored document: as submitted, or converted by -o json|yaml.
func (e *env) printDoc(doc *client.Document) error {
	jsonDoc := isJSON(doc.Body)
	switch e.output {
	case formatJSON:
		if jsonDoc {
			var buf bytes.Buffer
			if err := jsonIndent(&buf, doc.Body); err == nil {
				_, err := e.stdout.Write(buf.Bytes())
				return err
			}
		}
		return yamlToJSON(e.stdout, doc.Body)
	case formatYAML:
		if jsonDoc {
			return jsonToYAML(e.stdout, doc.Body)
		}
	}
	_, err := e.stdout.Write(doc.Body)
	if err == nil && !bytes.HasSuffix(doc.Body, []byte("\n")) {
		_, err = io.WriteString(e.stdout, "\n")
	}
	return err
}

type ctxT = context.Context

func jsonIndent(w *bytes.Buffer, data []byte) error {
	if err := json.Indent(w, data, "", "  "); err != nil {
		return err
	}
	w.WriteByte('\n')
	return nil
}

// docKind is what differs between the API and product commands.
type docKind struct {
	noun, plural string // "API", "APIs"
	basePath     bool   // the table shows base paths
	list         func(*client.Client) func(ctxT, string, client.PageOptions) ([]client.Draft, string, error)
	get          func(*client.Client) func(ctxT, string, string) (*client.Document, error)
	replace      func(*client.Client) func(ctxT, string, string, string, []byte, string) (*client.Draft, error)
	del          func(*client.Client) func(ctxT, string, string) error
}

var (
	apiKind = docKind{noun: "API", plural: "APIs", basePath: true,
		list: func(c *client.Client) func(ctxT, string, client.PageOptions) ([]client.Draft, string, error) {
			return c.ListAPIs
		},
		get: func(c *client.Client) func(ctxT, string, string) (*client.Document, error) { return c.GetAPI },
		replace: func(c *client.Client) func(ctxT, string, string, string, []byte, string) (*client.Draft, error) {
			return c.ReplaceAPI
		},
		del: func(c *client.Client) func(ctxT, string, string) error { return c.DeleteAPI },
	}
	productKind = docKind{noun: "product", plural: "products",
		list: func(c *client.Client) func(ctxT, string, client.PageOptions) ([]client.Draft, string, error) {
			return c.ListProducts
		},
		get: func(c *client.Client) func(ctxT, string, string) (*client.Document, error) { return c.GetProduct },
		replace: func(c *client.Client) func(ctxT, string, string, string, []byte, string) (*client.Draft, error) {
			return c.ReplaceProduct
		},
		del: func(c *client.Client) func(ctxT, string, string) error { return c.DeleteProduct },
	}
)

func (k docKind) table(ds []client.Draft) *table { return draftTable(ds, k.basePath) }

func docListCmd(e *env, k docKind) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   "list --org ORG",
		Short: "List an org's draft " + k.plural,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(after string) ([]client.Draft, string, error) {
				return k.list(c)(cmd.Context(), w.org, client.PageOptions{After: after})
			}, k.table)
		},
	}
	w.orgFlag(cmd)
	return cmd
}

func docGetCmd(e *env, k docKind) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   "get NAME:VERSION --org ORG",
		Short: "Print a draft " + k.noun + "'s document as submitted (-o json|yaml converts it)",
		Args:  args("NAME:VERSION"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			doc, err := k.get(c)(cmd.Context(), w.org, a[0])
			if err != nil {
				return err
			}
			return e.printDoc(doc)
		},
	}
	w.orgFlag(cmd)
	return cmd
}

func docReplaceCmd(e *env, k docKind) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   "replace NAME:VERSION FILE --org ORG",
		Short: "Replace a draft " + k.noun + "'s document (published snapshots change only when republished)",
		Args:  args("NAME:VERSION", "FILE"),
		RunE: func(cmd *cobra.Command, a []string) error {
			data, ctype, err := e.readDoc(a[1])
			if err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			cur, err := k.get(c)(cmd.Context(), w.org, a[0])
			if err != nil {
				return err
			}
			tag := cur.EntityTag
			if tag == "" {
				tag = "*"
			}
			d, err := k.replace(c)(cmd.Context(), w.org, a[0], tag, data, ctype)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), d, func() *table { return k.table([]client.Draft{*d}) })
		},
	}
	w.orgFlag(cmd)
	return cmd
}

func docDeleteCmd(e *env, k docKind) *cobra.Command {
	var w where
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME:VERSION --org ORG",
		Short: "Delete a draft " + k.noun,
		Args:  args("NAME:VERSION"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete %s %s of org %s?", k.noun, a[0], w.org)); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := k.del(c)(cmd.Context(), w.org, a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted %s %s of org %s.\n", k.noun, a[0], w.org)
			return nil
		},
	}
	w.orgFlag(cmd)
	addYes(cmd, &yes)
	return cmd
}

// --- api ---------------------------------------------------------------------------------

func apiCmd(e *env) *cobra.Command {
	return group("api", "Import and manage an org's draft APIs (OpenAPI 2.0, 3.0, 3.1)",
		apiImportCmd(e), docListCmd(e, apiKind), docGetCmd(e, apiKind), docReplaceCmd(e, apiKind), docDeleteCmd(e, apiKind))
}

// docFiles lists the documents of a directory: *.yaml, *.yml, *.json, by name.
func docFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, ent := range ents {
		switch strings.ToLower(filepath.Ext(ent.Name())) {
		case ".yaml", ".yml", ".json":
			if ent.Type().IsRegular() || ent.Type()&os.ModeSymlink != 0 {
				files = append(files, filepath.Join(dir, ent.Name()))
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

func apiImportCmd(e *env) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   "import FILE|DIR|- --org ORG",
		Short: "Import OpenAPI documents: a file, stdin (-), or every *.yaml, *.yml, *.json of a directory",
		Long: `Import OpenAPI 2.0, 3.0 or 3.1 documents (JSON or YAML) as draft APIs of an org.
A directory imports every *.yaml, *.yml and *.json file in it, in name order, with a
progress line per file on stderr; it goes on past failures, prints each document's
problems with their JSON pointers, and exits 1 if any failed.`,
		Example: `  gatehouse api import weather-oas2.yaml --org acme
  gatehouse api import ./apis --org acme`,
		Args: args("FILE|DIR"),
		RunE: func(cmd *cobra.Command, a []string) error {
			path := a[0]
			var files []string
			dir := false
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				dir = true
				if files, err = docFiles(path); err != nil {
					return fmt.Errorf("read %s: %w", path, err)
				}
				if len(files) == 0 {
					return usagef("%s has no *.yaml, *.yml or *.json files", path)
				}
			} else if path != "-" && err != nil {
				return usagef("%s: %v", path, errors.Unwrap(err))
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if !dir {
				data, ctype, err := e.readDoc(path)
				if err != nil {
					return err
				}
				d, err := c.ImportAPI(cmd.Context(), w.org, data, ctype)
				if err != nil {
					return fmt.Errorf("import %s: %w", path, err)
				}
				return render(e.stdout, e.format(), d, func() *table { return apiKind.table([]client.Draft{*d}) })
			}
			imported := []client.Draft{}
			var failed []string
			for i, f := range files {
				fmt.Fprintf(e.stderr, "[%d/%d] %s … ", i+1, len(files), filepath.Base(f))
				data, ctype, err := e.readDoc(f)
				var d *client.Draft
				if err == nil {
					d, err = c.ImportAPI(cmd.Context(), w.org, data, ctype)
				}
				if err != nil {
					var ae *client.Error
					if !errors.As(err, &ae) && !isUsage(err) {
						// The server is gone or the context ended: the rest would fail alike.
						fmt.Fprintln(e.stderr, "failed")
						return fmt.Errorf("import %s: %w", f, err)
					}
					fmt.Fprintf(e.stderr, "failed: %s\n", strings.ReplaceAll(describe(err, e.server), "\n", "\n    "))
					failed = append(failed, filepath.Base(f))
					continue
				}
				fmt.Fprintf(e.stderr, "ok (%s)\n", d.Ref())
				imported = append(imported, *d)
			}
			fmt.Fprintf(e.stderr, "Imported %d of %d API documents into org %s", len(imported), len(files), w.org)
			if len(failed) > 0 {
				fmt.Fprintf(e.stderr, "; %d failed: %s", len(failed), strings.Join(failed, ", "))
			}
			fmt.Fprintln(e.stderr, ".")
			if err := render(e.stdout, e.format(), imported, func() *table { return apiKind.table(imported) }); err != nil {
				return err
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d API documents failed to import; fix them and import those files again", len(failed), len(files))
			}
			return nil
		},
	}
	w.orgFlag(cmd)
	return cmd
}

// --- product -------------------------------------------------------------------------------

func productCmd(e *env) *cobra.Command {
	return group("product", "Manage an org's products and publish them to catalogs",
		productCreateCmd(e), docListCmd(e, productKind), docGetCmd(e, productKind), docReplaceCmd(e, productKind),
		docDeleteCmd(e, productKind), productPublishCmd(e),
		productStateCmd(e, "deprecate", client.StateDeprecated, "Deprecate a published product: its subscriptions keep working, no new ones"),
		productStateCmd(e, "retire", client.StateRetired, "Retire a published product: the gateway stops serving it"),
		productListPublishedCmd(e))
}

func productCreateCmd(e *env) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:     "create FILE|- --org ORG",
		Short:   "Create a draft product from a product document (its APIs must be drafts of the org)",
		Example: `  gatehouse product create weather-product.yaml --org acme`,
		Args:    args("FILE"),
		RunE: func(cmd *cobra.Command, a []string) error {
			data, ctype, err := e.readDoc(a[0])
			if err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			d, err := c.CreateProduct(cmd.Context(), w.org, data, ctype)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), d, func() *table { return productKind.table([]client.Draft{*d}) })
		},
	}
	w.orgFlag(cmd)
	return cmd
}

func productPublishCmd(e *env) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:     "publish NAME:VERSION --org ORG --catalog CATALOG",
		Short:   "Publish a draft product with its APIs to a catalog (a snapshot; publish again after edits)",
		Example: `  gatehouse product publish weather-product:1.0.0 --org acme --catalog sb`,
		Args:    args("NAME:VERSION"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			p, err := c.Publish(cmd.Context(), w.org, w.catalog, a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Published %s to %s/%s.\n", a[0], w.org, w.catalog)
			return render(e.stdout, e.format(), p, func() *table { return publicationTable([]client.Publication{*p}) })
		},
	}
	w.catalogFlags(cmd)
	return cmd
}

func productStateCmd(e *env, verb, state, short string) *cobra.Command {
	var w where
	cmd := &cobra.Command{
		Use:   verb + " NAME:VERSION --org ORG --catalog CATALOG",
		Short: short,
		Args:  args("NAME:VERSION"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			p, err := c.SetPublicationState(cmd.Context(), w.org, w.catalog, a[0], state)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), p, func() *table { return publicationTable([]client.Publication{*p}) })
		},
	}
	w.catalogFlags(cmd)
	return cmd
}

func productListPublishedCmd(e *env) *cobra.Command {
	var w where
	var states []string
	cmd := &cobra.Command{
		Use:   "list-published --org ORG --catalog CATALOG",
		Short: "List the products published to a catalog, with their state",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			ps, err := c.ListPublications(cmd.Context(), w.org, w.catalog, states...)
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []client.Publication{}
			}
			return render(e.stdout, e.format(), ps, func() *table { return publicationTable(ps) })
		},
	}
	w.catalogFlags(cmd)
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: published, deprecated, retired")
	return cmd
}

// --- consumer-org --------------------------------------------------------------------------

func consumerOrgCmd(e *env) *cobra.Command {
	var wc, wl, wg, wd where
	var title string
	var yes bool
	create := &cobra.Command{
		Use:     "create NAME --org ORG --catalog CATALOG",
		Short:   "Add a consumer org to a catalog",
		Example: `  gatehouse consumer-org create climbers --title "Climbers Inc" --org acme --catalog sb`,
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			co, err := c.CreateConsumerOrg(cmd.Context(), wc.org, wc.catalog, a[0], title)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), co, func() *table { return consumerOrgTable([]client.ConsumerOrg{*co}) })
		},
	}
	wc.catalogFlags(create)
	create.Flags().StringVar(&title, "title", "", "display title")

	list := &cobra.Command{
		Use:   "list --org ORG --catalog CATALOG",
		Short: "List a catalog's consumer orgs",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(after string) ([]client.ConsumerOrg, string, error) {
				return c.ListConsumerOrgs(cmd.Context(), wl.org, wl.catalog, client.PageOptions{After: after})
			}, consumerOrgTable)
		},
	}
	wl.catalogFlags(list)

	get := &cobra.Command{
		Use:   "get NAME --org ORG --catalog CATALOG",
		Short: "Show a consumer org",
		Args:  args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			co, err := c.GetConsumerOrg(cmd.Context(), wg.org, wg.catalog, a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), co, func() *table { return consumerOrgTable([]client.ConsumerOrg{*co}) })
		},
	}
	wg.catalogFlags(get)

	del := &cobra.Command{
		Use:   "delete NAME --org ORG --catalog CATALOG",
		Short: "Delete a consumer org with its apps (their client ids stop working at once)",
		Args:  args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete consumer org %s with its apps?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteConsumerOrg(cmd.Context(), wd.org, wd.catalog, a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted consumer org %s.\n", a[0])
			return nil
		},
	}
	wd.catalogFlags(del)
	addYes(del, &yes)
	return group("consumer-org", "Manage the consumer orgs of a catalog", create, list, get, del)
}

// --- app -------------------------------------------------------------------------------------

func appCmd(e *env) *cobra.Command {
	var wc, wl, wg, wd where
	var desc string
	var yes bool
	create := &cobra.Command{
		Use:     "create NAME --org ORG --catalog CATALOG --consumer-org CORG",
		Short:   "Create an app with its first client id and secret (the secret is shown once)",
		Example: `  gatehouse app create route-finder -d "mobile app" --org acme --catalog sb --consumer-org climbers`,
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			app, err := c.CreateApp(cmd.Context(), wc.org, wc.catalog, wc.corg, a[0], desc)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stderr, "Save the client secret now: it cannot be shown again.")
			if e.format() != formatTable {
				return render(e.stdout, e.format(), app, nil)
			}
			if err := appTable([]client.App{*app}).write(e.stdout); err != nil {
				return err
			}
			if app.Credentials != nil {
				_, err = fmt.Fprintf(e.stdout, "\nClient ID:     %s\nClient secret: %s\n", app.Credentials.ClientID, app.Credentials.ClientSecret)
			}
			return err
		},
	}
	wc.corgFlags(create)
	create.Flags().StringVarP(&desc, "description", "d", "", "description")

	list := &cobra.Command{
		Use:   "list --org ORG --catalog CATALOG [--consumer-org CORG]",
		Short: "List a consumer org's apps (without --consumer-org: every app of the catalog)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(after string) ([]client.App, string, error) {
				o := client.PageOptions{After: after}
				if wl.corg != "" {
					return c.ListApps(cmd.Context(), wl.org, wl.catalog, wl.corg, o)
				}
				return c.ListConsumerApps(cmd.Context(), wl.org, wl.catalog, o)
			}, appTable)
		},
	}
	wl.catalogFlags(list)
	list.Flags().StringVar(&wl.corg, "consumer-org", "", "only this consumer org's apps")

	get := &cobra.Command{
		Use:   "get APP --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Show an app (never its secrets)",
		Args:  args("APP"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			app, err := c.GetApp(cmd.Context(), wg.appRef(a[0]))
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), app, func() *table { return appTable([]client.App{*app}) })
		},
	}
	wg.corgFlags(get)

	del := &cobra.Command{
		Use:   "delete APP --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Delete an app with its credentials and subscriptions",
		Args:  args("APP"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete app %s with its credentials and subscriptions?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteApp(cmd.Context(), wd.appRef(a[0])); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted app %s.\n", a[0])
			return nil
		},
	}
	wd.corgFlags(del)
	addYes(del, &yes)
	return group("app", "Manage consumer apps and their credentials", create, list, get, del, credentialsCmd(e))
}

func credentialsCmd(e *env) *cobra.Command {
	var wl, wa, wd, wr where
	var yes bool
	list := &cobra.Command{
		Use:   "list APP --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "List an app's client ids (with secret hints)",
		Args:  args("APP"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := c.ListCredentials(cmd.Context(), wl.appRef(a[0]))
			if err != nil {
				return err
			}
			if cs == nil {
				cs = []client.Credential{}
			}
			return render(e.stdout, e.format(), cs, func() *table { return credentialTable(cs) })
		},
	}
	wl.corgFlags(list)

	showSecret := func(cr *client.Credential) error {
		fmt.Fprintln(e.stderr, "Save the client secret now: it cannot be shown again.")
		return render(e.stdout, e.format(), cr, func() *table { return credentialTable([]client.Credential{*cr}) })
	}
	add := &cobra.Command{
		Use:   "add APP --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Add a client id and secret to an app (roll out a new pair before deleting the old)",
		Args:  args("APP"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			cr, err := c.AddCredential(cmd.Context(), wa.appRef(a[0]))
			if err != nil {
				return err
			}
			return showSecret(cr)
		},
	}
	wa.corgFlags(add)

	del := &cobra.Command{
		Use:   "delete APP CLIENT_ID --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Delete a client id of an app",
		Args:  args("APP", "CLIENT_ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete client id %s of app %s?", a[1], a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteCredential(cmd.Context(), wd.appRef(a[0]), a[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted client id %s of app %s.\n", a[1], a[0])
			return nil
		},
	}
	wd.corgFlags(del)
	addYes(del, &yes)

	reset := &cobra.Command{
		Use:   "reset-secret APP CLIENT_ID --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Give a client id a new secret (shown once); the old secret stops working at once",
		Args:  args("APP", "CLIENT_ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			cr, err := c.ResetSecret(cmd.Context(), wr.appRef(a[0]), a[1])
			if err != nil {
				return err
			}
			return showSecret(cr)
		},
	}
	wr.corgFlags(reset)
	return group("credentials", "Manage an app's client ids and secrets", list, add, del, reset)
}

// --- subscription -------------------------------------------------------------------------------

func subscriptionCmd(e *env) *cobra.Command {
	var wc, wl, wd, wa where
	var product, plan string
	var yes bool
	create := &cobra.Command{
		Use:     "create --app APP --product NAME:VERSION [--plan PLAN] --org ORG --catalog CATALOG --consumer-org CORG",
		Short:   "Subscribe an app to a plan of a published product (approval plans start pending)",
		Example: `  gatehouse subscription create --app route-finder --product weather-product:1.0.0 --plan default --org acme --catalog sb --consumer-org climbers`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.Subscribe(cmd.Context(), wc.appRef(wc.app), product, plan)
			if err != nil {
				return err
			}
			if s.State == client.SubscriptionPending {
				fmt.Fprintln(e.stderr, "The plan needs approval: the subscription is pending until a Manager runs gatehouse subscription approve.")
			}
			return render(e.stdout, e.format(), s, func() *table { return subscriptionTable([]client.Subscription{*s}) })
		},
	}
	wc.corgFlags(create)
	create.Flags().StringVar(&wc.app, "app", "", "the app (name or id)")
	create.Flags().StringVar(&product, "product", "", "the published product, NAME:VERSION")
	create.Flags().StringVar(&plan, "plan", "default", "the plan")
	create.MarkFlagRequired("app")
	create.MarkFlagRequired("product")

	list := &cobra.Command{
		Use:   "list --org ORG --catalog CATALOG [--consumer-org CORG --app APP]",
		Short: "List an app's subscriptions (without --app: every subscription of the catalog)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (wl.app == "") != (wl.corg == "") {
				return usagef("--app and --consumer-org go together (or leave both out for the whole catalog)")
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(after string) ([]client.Subscription, string, error) {
				o := client.PageOptions{After: after}
				if wl.app != "" {
					return c.ListSubscriptions(cmd.Context(), wl.appRef(wl.app), o)
				}
				return c.ListCatalogSubscriptions(cmd.Context(), wl.org, wl.catalog, o)
			}, subscriptionTable)
		},
	}
	wl.catalogFlags(list)
	list.Flags().StringVar(&wl.corg, "consumer-org", "", "the app's consumer org")
	list.Flags().StringVar(&wl.app, "app", "", "only this app's subscriptions")

	del := &cobra.Command{
		Use:   "delete ID --app APP --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Delete a subscription",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete subscription %s of app %s?", a[0], wd.app)); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.Unsubscribe(cmd.Context(), wd.appRef(wd.app), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted subscription %s.\n", a[0])
			return nil
		},
	}
	wd.corgFlags(del)
	del.Flags().StringVar(&wd.app, "app", "", "the app (name or id)")
	del.MarkFlagRequired("app")
	addYes(del, &yes)

	approve := &cobra.Command{
		Use:   "approve ID --app APP --org ORG --catalog CATALOG --consumer-org CORG",
		Short: "Approve a pending subscription (Manager)",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.Approve(cmd.Context(), wa.appRef(wa.app), a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), s, func() *table { return subscriptionTable([]client.Subscription{*s}) })
		},
	}
	wa.corgFlags(approve)
	approve.Flags().StringVar(&wa.app, "app", "", "the app (name or id)")
	approve.MarkFlagRequired("app")
	return group("subscription", "Subscribe apps to plans of published products", create, list, del, approve)
}

// --- events, analytics ---------------------------------------------------------------------------

func eventsCmd(e *env) *cobra.Command {
	var w where
	var q client.EventQuery
	var after, before string
	cmd := &cobra.Command{
		Use:   "events --org ORG --catalog CATALOG",
		Short: "List the gateway's calls in a catalog, oldest first",
		Example: `  gatehouse events --org acme --catalog sb --status 4xx --after 1h
  gatehouse events --org acme --catalog sb --api weather:1.0.0 --limit 20 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if after != "" {
				if q.After, err = parsePast(after, e.now()); err != nil {
					return usagef("--after: %v", err)
				}
			}
			if before != "" {
				if q.Before, err = parsePast(before, e.now()); err != nil {
					return usagef("--before: %v", err)
				}
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			page, err := c.ListEvents(cmd.Context(), w.org, w.catalog, q)
			if err != nil {
				return err
			}
			evs := page.Events
			if evs == nil {
				evs = []client.Event{}
			}
			if page.Next != "" {
				fmt.Fprintf(e.stderr, "More events follow: add --cursor %s.\n", page.Next)
			}
			return render(e.stdout, e.format(), evs, func() *table { return eventTable(evs) })
		},
	}
	w.catalogFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&after, "after", "", "calls at or after this time (RFC 3339, date, or a duration ago: 1h)")
	f.StringVar(&before, "before", "", "calls before this time (same forms)")
	f.StringVar(&q.API, "api", "", "only this API (NAME:VERSION)")
	f.StringVar(&q.App, "app", "", "only this app (id)")
	f.StringVar(&q.Status, "status", "", "only this status (404) or class (4xx)")
	f.IntVar(&q.Limit, "limit", 0, "at most this many events (default 100, at most 1000)")
	f.StringVar(&q.Cursor, "cursor", "", "the next page, as the previous page said")
	return cmd
}

func analyticsCmd(e *env) *cobra.Command {
	var w where
	var q client.AnalyticsQuery
	var since, until string
	cmd := &cobra.Command{
		Use:     "analytics --org ORG --catalog CATALOG",
		Short:   "Aggregate a catalog's gateway calls: counts by status class and latency percentiles",
		Example: `  gatehouse analytics --org acme --catalog sb --since 24h --interval 1h`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if since != "" {
				if q.Since, err = parsePast(since, e.now()); err != nil {
					return usagef("--since: %v", err)
				}
			}
			if until != "" {
				if q.Until, err = parsePast(until, e.now()); err != nil {
					return usagef("--until: %v", err)
				}
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.Analytics(cmd.Context(), w.org, w.catalog, q)
			if err != nil {
				return err
			}
			if e.format() == formatTable {
				fmt.Fprintf(e.stdout, "%d calls from %s to %s, in %s intervals\n\n", a.Calls, ts(a.Since), ts(a.Until), a.Interval)
			}
			return render(e.stdout, e.format(), a, func() *table { return analyticsTable(a) })
		},
	}
	w.catalogFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "from this time (RFC 3339, date, or a duration ago; default: an hour ago)")
	f.StringVar(&until, "until", "", "until this time (default: now)")
	f.DurationVar(&q.Interval, "interval", 0, "bucket size, e.g. 1m, 1h (default 1m)")
	return cmd
}
