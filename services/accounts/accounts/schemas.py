from marshmallow import EXCLUDE, Schema, fields, validate


class GrantIn(Schema):
    tenant = fields.String(required=True)
    role = fields.String(required=True)


class PersonIn(Schema):
    class Meta:
        unknown = EXCLUDE

    username = fields.String(required=True)
    display_name = fields.String(required=True)
    password = fields.String(load_default=None)
    must_change_password = fields.Boolean(load_default=False)
    # an account that signs in only through the school's SSO: no password (usecases.import_people)
    # where reminders go (domain.clean_email): None / "" leaves the stored address as it is
    email = fields.String(load_default=None, allow_none=True)
    sso_only = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    grants = fields.List(fields.Nested(GrantIn), load_default=list)
    # platform grants (domain.PLATFORM_ROLES): None leaves them as they are; platform level only
    platform_roles = fields.List(fields.String(), load_default=None)


class TenantIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]{2,32}$"))
    school_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))
    division = fields.String(required=True)
    name = fields.String(required=True)


class ProxyPeriod(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
