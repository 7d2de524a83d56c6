package apim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"gatehouse/internal/apidef"
	"gatehouse/internal/errs"
	"gatehouse/internal/iam"
	"gatehouse/internal/store"
)

// Document kinds.
const (
	KindAPI     = "api"
	KindProduct = "product"
)

// MaxDocument is the size limit of an API or product document (SPEC §4).
const MaxDocument = 5 << 20

// Draft is a stored draft with its compiled form decoded.
type Draft struct {
	store.Document
	API     *apidef.API     // for KindAPI
	Product *apidef.Product // for KindProduct
}

func noun(kind string) string {
	if kind == KindAPI {
		return "API"
	}
	return "Product"
}

// problemsError turns a document's problems into one validation error that
// lists each, located by its JSON pointer.
func problemsError(kind string, problems []apidef.Problem) error {
	e := errs.E(errs.ValidationFailed, "The %s document has %d problem(s); nothing was stored.", strings.ToLower(noun(kind)), len(problems))
	for _, p := range problems {
		e.Details = append(e.Details, errs.Detail{Target: p.Pointer, TargetType: "pointer", Message: p.Message})
	}
	return e
}

// compile parses a document of kind and checks what only the store can tell
// (for a product: that its APIs exist and its plans name their operations).
func (s *Service) compile(ctx context.Context, orgID, kind string, src []byte) (name, version, title string, compiled []byte, err error) {
	if len(src) > MaxDocument {
		return "", "", "", nil, errs.E(errs.PayloadTooLarge, "The document is larger than %d bytes.", MaxDocument)
	}
	var (
		problems []apidef.Problem
		v        any
	)
	switch kind {
	case KindAPI:
		var a apidef.API
		a, problems, err = apidef.ParseAPI(src)
		name, version, title, v = a.Name, a.Version, a.Title, a
	case KindProduct:
		var p apidef.Product
		p, problems, err = apidef.ParseProduct(src)
		if err == nil && len(problems) == 0 {
			problems, err = s.checkProductAPIs(ctx, orgID, p)
		}
		name, version, title, v = p.Name, p.Version, p.Title, p
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			return "", "", "", nil, err
		}
		if errors.Is(err, apidef.ErrTooLarge) {
			return "", "", "", nil, errs.E(errs.PayloadTooLarge, "The document is larger than %d bytes.", MaxDocument)
		}
		return "", "", "", nil, errs.E(errs.BadRequest, "The %s document cannot be read: %s", strings.ToLower(noun(kind)), err.Error())
	}
	if len(problems) > 0 {
		return "", "", "", nil, problemsError(kind, problems)
	}
	compiled, err = json.Marshal(v)
	return name, version, title, compiled, err
}

// checkProductAPIs reports product APIs that are not drafts of the org, and
// plan operations those APIs do not declare.
func (s *Service) checkProductAPIs(ctx context.Context, orgID string, p apidef.Product) ([]apidef.Problem, error) {
	var problems []apidef.Problem
	apis := map[string]*apidef.API{}
	for key, ref := range p.APIs {
		d, err := s.getDraft(ctx, KindAPI, orgID, ref)
		if errors.Is(err, store.ErrNotFound) {
			problems = append(problems, apidef.Problem{Pointer: "/apis/" + pointerEscape(key) + "/name", Message: fmt.Sprintf("API %s does not exist in this org; import it first.", ref)})
			continue
		}
		if err != nil {
			return nil, err
		}
		apis[key] = d.API
	}
	for planName, plan := range p.Plans {
		for key, pa := range plan.APIs {
			api := apis[key]
			if api == nil {
				continue
			}
			for i, op := range pa.Operations {
				if !declares(api, op) {
					what := op.Method + " " + op.Path
					if op.OperationID != "" {
						what = "with operationId " + op.OperationID
					}
					problems = append(problems, apidef.Problem{
						Pointer: fmt.Sprintf("/plans/%s/apis/%s/operations/%d", pointerEscape(planName), pointerEscape(key), i),
						Message: fmt.Sprintf("API %s declares no operation %s.", api.ID(), strings.TrimSpace(what)),
					})
				}
			}
		}
	}
	return problems, nil
}

// declares reports whether api has a plan's operation.
func declares(api *apidef.API, po apidef.PlanOperation) bool {
	for i := range api.Operations {
		if Includes(po, &api.Operations[i]) {
			return true
		}
	}
	return false
}

// Includes reports whether a plan's operation entry covers op: by
// operationId, or by method and path (an empty path: every path of the method).
func Includes(po apidef.PlanOperation, op *apidef.Operation) bool {
	if po.OperationID != "" {
		return po.OperationID == op.OperationID
	}
	return po.Method == op.Method && (po.Path == "" || po.Path == op.Path)
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// getDraft reads a draft and decodes its compiled form.
func (s *Service) getDraft(ctx context.Context, kind, orgID, ref string) (Draft, error) {
	doc, err := s.store.GetDocument(ctx, kind, orgID, ref)
	if err != nil {
		return Draft{}, err
	}
	return decodeDraft(kind, doc)
}

func decodeDraft(kind string, doc store.Document) (Draft, error) {
	d := Draft{Document: doc}
	var err error
	if kind == KindAPI {
		d.API = new(apidef.API)
		err = json.Unmarshal(doc.Compiled, d.API)
	} else {
		d.Product = new(apidef.Product)
		err = json.Unmarshal(doc.Compiled, d.Product)
	}
	if err != nil {
		return d, fmt.Errorf("decode compiled %s %s: %w", kind, doc.ID, err)
	}
	return d, nil
}

// CreateDraft imports an API or product document into an org (Writer in it).
// An invalid document is refused with every problem located by a JSON
// pointer, and nothing is stored.
func (s *Service) CreateDraft(ctx context.Context, p *iam.Principal, kind, orgRef string, src []byte, format string) (Draft, error) {
	o, err := s.orgWithRole(ctx, p, orgRef, iam.Writer)
	if err != nil {
		return Draft{}, err
	}
	name, version, title, compiled, err := s.compile(ctx, o.ID, kind, src)
	if err != nil {
		return Draft{}, err
	}
	now := s.now()
	doc := store.Document{
		ID: uuid.NewString(), AccountID: s.accountID, OrgID: o.ID, Name: name, Version: version, Title: title,
		Source: src, Format: format, Compiled: compiled, Rev: 1, CreatedBy: p.IAMID(), CreatedAt: now, ModifiedAt: now,
	}
	if err := s.store.CreateDocument(ctx, kind, doc); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return Draft{}, errs.E(errs.AlreadyExists, "%s %s:%s already exists in org %s; replace it with PUT.", noun(kind), name, version, o.Name)
		}
		return Draft{}, fmt.Errorf("create %s: %w", kind, err)
	}
	return decodeDraft(kind, doc)
}

// Draft returns one draft of an org the caller can see, by id or name:version.
func (s *Service) Draft(ctx context.Context, p *iam.Principal, kind, orgRef, ref string) (Draft, error) {
	o, err := s.Org(ctx, p, orgRef)
	if err != nil {
		return Draft{}, err
	}
	d, err := s.getDraft(ctx, kind, o.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return d, errs.E(errs.NotFound, "%s %s not found in org %s.", noun(kind), errs.Printable(ref), o.Name)
	}
	return d, err
}

// ListDrafts lists an org's drafts by name:version.
func (s *Service) ListDrafts(ctx context.Context, p *iam.Principal, kind, orgRef string, limit int, after string) ([]Draft, string, error) {
	o, err := s.Org(ctx, p, orgRef)
	if err != nil {
		return nil, "", err
	}
	docs, err := s.store.ListDocuments(ctx, kind, o.ID, store.Page{After: after, Limit: limit + 1})
	if err != nil {
		return nil, "", fmt.Errorf("list %ss: %w", kind, err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		next = docs[limit-1].Name + ":" + docs[limit-1].Version
	}
	out := make([]Draft, len(docs))
	for i, doc := range docs {
		if out[i], err = decodeDraft(kind, doc); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// ReplaceDraft replaces a draft's document (Writer; If-Match required). Live
// publications are snapshots and do not change until republished.
func (s *Service) ReplaceDraft(ctx context.Context, p *iam.Principal, kind, orgRef, ref, ifMatch string, src []byte, format string) (Draft, error) {
	o, err := s.orgWithRole(ctx, p, orgRef, iam.Writer)
	if err != nil {
		return Draft{}, err
	}
	cur, err := s.store.GetDocument(ctx, kind, o.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return Draft{}, errs.E(errs.NotFound, "%s %s not found in org %s.", noun(kind), errs.Printable(ref), o.Name)
	}
	if err != nil {
		return Draft{}, err
	}
	if ifMatch == "" {
		return Draft{}, errs.E(errs.PreconditionRequired, "Send the %s's ETag in If-Match.", strings.ToLower(noun(kind)))
	}
	name, version, title, compiled, err := s.compile(ctx, o.ID, kind, src)
	if err != nil {
		return Draft{}, err
	}
	doc, err := s.store.UpdateDocument(ctx, kind, cur.ID, func(d *store.Document) error {
		if !iam.ETagMatches(ifMatch, d.Rev) {
			return errs.E(errs.PreconditionFailed, "The %s was changed since you read it; read it again and retry.", strings.ToLower(noun(kind)))
		}
		d.Name, d.Version, d.Title, d.Source, d.Format, d.Compiled, d.ModifiedAt = name, version, title, src, format, compiled, s.now()
		return nil
	})
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return Draft{}, errs.E(errs.AlreadyExists, "%s %s:%s already exists in org %s.", noun(kind), name, version, o.Name)
	case errors.Is(err, store.ErrNotFound):
		return Draft{}, errs.E(errs.NotFound, "%s %s not found in org %s.", noun(kind), errs.Printable(ref), o.Name)
	case err != nil:
		return Draft{}, err
	}
	return decodeDraft(kind, doc)
}

// DeleteDraft deletes a draft (Writer). An API that a draft product of the
// org still references is not deleted (409).
func (s *Service) DeleteDraft(ctx context.Context, p *iam.Principal, kind, orgRef, ref string) (Draft, error) {
	o, err := s.orgWithRole(ctx, p, orgRef, iam.Writer)
	if err != nil {
		return Draft{}, err
	}
	d, err := s.getDraft(ctx, kind, o.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return d, errs.E(errs.NotFound, "%s %s not found in org %s.", noun(kind), errs.Printable(ref), o.Name)
	}
	if err != nil {
		return d, err
	}
	if kind == KindAPI {
		if user, err := s.productUsing(ctx, o.ID, d.Name+":"+d.Version); err != nil {
			return d, err
		} else if user != "" {
			return d, errs.E(errs.Conflict, "API %s:%s is part of product %s; remove it from the product first.", d.Name, d.Version, user)
		}
	}
	err = s.store.DeleteDocument(ctx, kind, d.ID, nil)
	if errors.Is(err, store.ErrNotFound) {
		return d, errs.E(errs.NotFound, "%s %s not found in org %s.", noun(kind), errs.Printable(ref), o.Name)
	}
	return d, err
}

// productUsing returns a draft product of the org that references api, or "".
func (s *Service) productUsing(ctx context.Context, orgID, api string) (string, error) {
	after := ""
	for {
		docs, err := s.store.ListDocuments(ctx, KindProduct, orgID, store.Page{After: after, Limit: 500})
		if err != nil {
			return "", err
		}
		for _, doc := range docs {
			d, err := decodeDraft(KindProduct, doc)
			if err != nil {
				return "", err
			}
			for _, ref := range d.Product.APIs {
				if ref == api {
					return d.Product.ID(), nil
				}
			}
			after = doc.Name + ":" + doc.Version
		}
		if len(docs) < 500 {
			return "", nil
		}
	}
}
