package admin

import (
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"unionbot/admin/auth"
	"unionbot/storage"
)

// tempPassword makes a temporary password an admin hands over; the officer must replace it
// at the next login.
func tempPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	for {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		if auth.CheckPassword("", string(b)) == nil {
			return string(b)
		}
	}
}

type officersPage struct {
	Officers []storage.Officer
	Units    []storage.Unit
	Roles    []auth.Role
	County   bool
	Created  *storage.Officer
	TempPass string
	Officer  *storage.Officer // the officer page
	Self     bool
}

func (s *Server) officerUnits(r *http.Request, p auth.Principal) ([]storage.Unit, error) {
	if !p.CountyLevel() {
		return []storage.Unit{{ID: p.UnitID, Name: p.UnitName}}, nil
	}
	return s.db.Units(r.Context())
}

func (s *Server) officersPage(r *http.Request, p auth.Principal) (*officersPage, error) {
	if err := auth.Authorize(p, auth.ManageOfficers, auth.NoRecord); err != nil {
		return nil, err
	}
	unit, _ := auth.UnitFilter(p, 0)
	os, err := s.db.Officers(r.Context(), unit)
	if err != nil {
		return nil, err
	}
	units, err := s.officerUnits(r, p)
	if err != nil {
		return nil, err
	}
	return &officersPage{Officers: os, Units: units, Roles: auth.AllRoles, County: p.CountyLevel()}, nil
}

func (s *Server) handleOfficers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.officersPage(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "officers", &pageData{Title: "干部管理", Data: d})
}

// formUnit reads the unit field of an officer form: a county admin picks any unit (or none),
// a unit's admin always gets their own.
func (s *Server) formUnit(r *http.Request, p auth.Principal) (int64, error) {
	if !p.CountyLevel() {
		return p.UnitID, nil
	}
	v := strings.TrimSpace(r.PostFormValue("unit"))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, userErr(http.StatusUnprocessableEntity, "bad_unit", "所属工会无效。")
	}
	return id, nil
}

func formRoles(r *http.Request) ([]auth.Role, error) {
	roles, err := auth.ParseRoles(strings.Join(r.PostForm["role"], ","))
	if err != nil {
		return nil, userErr(http.StatusUnprocessableEntity, "bad_roles", "请至少选择一个角色。")
	}
	return roles, nil
}

func (s *Server) handleCreateOfficer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := s.officersPage(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fail := func(err error) {
		he := classify(err)
		if he == nil || he.status >= 500 {
			s.fail(w, r, err)
			return
		}
		msg := he.msg
		if errors.Is(err, storage.ErrConflict) {
			msg = "该用户名已被使用。"
		} else if errors.Is(err, storage.ErrInvalid) {
			msg = "用户名只能包含字母、数字和 . _ -，长度 1–64；姓名不超过 64 个字。"
		}
		s.renderStatus(w, r, he.status, "officers", &pageData{Title: "干部管理", Error: msg, Data: d,
			Form: map[string]string{"username": r.PostFormValue("username"), "display_name": r.PostFormValue("display_name")}})
	}
	roles, err := formRoles(r)
	if err != nil {
		fail(err)
		return
	}
	unit, err := s.formUnit(r, p)
	if err != nil {
		fail(err)
		return
	}
	if err := auth.Authorize(p, auth.ManageOfficers, unit); err != nil {
		fail(errForbidden)
		return
	}
	pass := tempPassword()
	hash, err := auth.HashPassword(pass)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.db.CreateOfficer(r.Context(), storage.NewOfficer{
		Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"), PasswordHash: hash,
		Roles: auth.Strings(roles), UnitID: unit, MustChangePassword: true,
	}, s.auditFor(r, p))
	if err != nil {
		fail(err)
		return
	}
	if d, err = s.officersPage(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Created, d.TempPass = &o, pass
	s.render(w, r, "officers", &pageData{Title: "干部管理", Data: d})
}

// officerFor loads the officer of the URL within p's reach (another unit's → 404).
func (s *Server) officerFor(r *http.Request, p auth.Principal) (storage.Officer, error) {
	if err := auth.Authorize(p, auth.ManageOfficers, auth.NoRecord); err != nil {
		return storage.Officer{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return storage.Officer{}, err
	}
	o, err := s.db.OfficerByID(r.Context(), id)
	if err != nil {
		return storage.Officer{}, err
	}
	if err := auth.Authorize(p, auth.ManageOfficers, o.UnitID); err != nil {
		return storage.Officer{}, err
	}
	return o, nil
}

func (s *Server) renderOfficer(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, o storage.Officer, msg, temp string) {
	units, err := s.officerUnits(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, "officer", &pageData{Title: "干部 " + o.Username, Error: msg, Data: &officersPage{
		Officer: &o, Units: units, Roles: auth.AllRoles, County: p.CountyLevel(), TempPass: temp,
		Self: p.Kind == auth.KindOfficer && p.ID == o.ID,
	}})
}

func (s *Server) handleOfficer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	o, err := s.officerFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderOfficer(w, r, p, http.StatusOK, o, "", "")
}

func (s *Server) handleUpdateOfficer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	o, err := s.officerFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	roles, err := formRoles(r)
	if err != nil {
		s.renderOfficer(w, r, p, http.StatusUnprocessableEntity, o, "请至少选择一个角色。", "")
		return
	}
	unit, err := s.formUnit(r, p)
	if err != nil {
		s.renderOfficer(w, r, p, http.StatusUnprocessableEntity, o, "所属工会无效。", "")
		return
	}
	disabled := r.PostFormValue("disabled") == "1"
	self := p.Kind == auth.KindOfficer && p.ID == o.ID
	if self && (disabled || !slices.Contains(roles, auth.RoleAdmin) || unit != o.UnitID) {
		s.renderOfficer(w, r, p, http.StatusUnprocessableEntity, o, "不能停用自己的账号、取消自己的管理员角色或更改自己的所属工会（请让另一位管理员操作）。", "")
		return
	}
	name := r.PostFormValue("display_name")
	if _, err := s.db.UpdateOfficer(r.Context(), o.ID, storage.OfficerUpdate{
		DisplayName: &name, Roles: auth.Strings(roles), UnitID: &unit, Disabled: &disabled,
	}, s.auditFor(r, p)); err != nil {
		if he := classify(err); he != nil && he.status == http.StatusUnprocessableEntity {
			s.renderOfficer(w, r, p, he.status, o, "姓名需为 1–64 个字。", "")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "已保存。", "/admin/officers/"+strconv.FormatInt(o.ID, 10))
}

func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	o, err := s.officerFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pass := tempPassword()
	hash, err := auth.HashPassword(pass)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if o, err = s.db.SetOfficerPassword(r.Context(), o.ID, hash, true, s.auditFor(r, p)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderOfficer(w, r, p, http.StatusOK, o, "", pass)
}
