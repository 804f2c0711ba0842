//! Self-registration of demand enterprises and suppliers.
//!
//! One multipart form serves both sides. The region is picked level by level
//! (province → city → district → town) with plain selects and a "refresh" button, so
//! it works without JavaScript; a script only presses that button on change. A credit
//! code that is already registered turns the form into a claim: the same form asks for
//! a business-licence scan, and a reviewer of the organisation's province decides.
//! Passwords are never echoed back into a re-shown form; everything else is.

use crate::audit::{self, Actor};
use crate::context::{Ctx, RequestContext};
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::password;
use crate::review_queue;
use crate::routes::auth::with_session_cookie;
use crate::routes::home::open_region_names;
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::account::{Address, LoginName, OrgName, PersonName};
use greenbridge_domain::credit_code::CreditCode;
use greenbridge_domain::region::{Region, RegionTree, RegistrationPhase};
use greenbridge_domain::role::Role;
use greenbridge_store::{NewAccount, NewOrganisation, OrgSide, Organisation, Outcome, StoreError};

/// Largest business-licence scan accepted.
pub const LICENCE_LIMIT: u64 = 10 * 1024 * 1024;
/// A business-licence scan: a PDF or a photo, at most [`LICENCE_LIMIT`].
pub const LICENCE_POLICY: UploadPolicy = UploadPolicy {
    allowed: &[FileKind::Pdf, FileKind::Jpeg, FileKind::Png],
    max_bytes: LICENCE_LIMIT,
};
/// Key prefix of licence scans in the file store.
const LICENCE_KEY_PREFIX: &str = "claims";
const REGION_LEVELS: [&str; 4] = ["省级", "地市级", "区县级", "乡镇/街道"];

/// The registration route takes a licence scan, so its body may be larger than a
/// plain form's; the upload itself is still capped at [`LICENCE_LIMIT`].
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(LICENCE_POLICY.body_limit())
}

#[derive(Template)]
#[template(path = "register_choose.html")]
struct ChoosePage {
    page: Page,
    open_regions: String,
}

pub async fn choose(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let page = Page::new(&state, &ctx, "注册").await;
    Ok(Html(
        ChoosePage {
            page,
            open_regions: open_region_names(state.config.registration_phase),
        }
        .render()?,
    ))
}

fn parse_side(side: &str) -> AppResult<OrgSide> {
    match side {
        "demand" => Ok(OrgSide::Demand),
        "supplier" => Ok(OrgSide::Supplier),
        _ => Err(AppError::NotFound),
    }
}

/// What the visitor typed, kept to show the form again.
#[derive(Default, Clone)]
pub struct Typed {
    pub credit_code: String,
    pub org_name: String,
    pub regions: [String; 4],
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub login: String,
    password: String,
    password_confirm: String,
    action: String,
}

#[derive(Default)]
pub struct FieldErrors {
    pub credit_code: Option<String>,
    pub org_name: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub password_confirm: Option<String>,
    pub licence: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        [
            &self.credit_code,
            &self.org_name,
            &self.region,
            &self.address,
            &self.contact_name,
            &self.contact_phone,
            &self.login,
            &self.password,
            &self.password_confirm,
            &self.licence,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

pub struct RegionOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

pub struct RegionSelect {
    pub name: String,
    pub label: &'static str,
    pub options: Vec<RegionOption>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    page: Page,
    side: &'static str,
    typed: Typed,
    selects: Vec<RegionSelect>,
    chosen_region: String,
    errors: FieldErrors,
    /// The name of the organisation the credit code belongs to, in claim mode.
    claim_of: Option<String>,
    open_regions: String,
    licence_limit_mb: u64,
}

impl RegisterPage {
    fn has_errors(&self) -> bool {
        self.errors.any()
    }
}

/// The chain of regions the selects describe, cut at the first value that is empty,
/// unknown, or not a child of the one above (the visitor changed a higher level).
fn region_chain<'t>(tree: &'t RegionTree, typed: &[String; 4]) -> Vec<&'t Region> {
    let mut chain: Vec<&Region> = Vec::new();
    for value in typed {
        let Some(region) = tree.get(value.trim()) else {
            break;
        };
        let fits = match chain.last() {
            None => region.parent.is_none(),
            Some(parent) => region
                .parent
                .as_ref()
                .is_some_and(|p| p.as_str() == parent.code.as_str()),
        };
        if !fits {
            break;
        }
        chain.push(region);
    }
    chain
}

fn region_selects(tree: &RegionTree, chain: &[&Region]) -> Vec<RegionSelect> {
    let mut selects = Vec::new();
    let mut options_for: Vec<&Region> = tree.provinces();
    for (level, label) in REGION_LEVELS.iter().enumerate() {
        if options_for.is_empty() {
            break;
        }
        let chosen = chain.get(level).map(|r| r.code.as_str().to_string());
        selects.push(RegionSelect {
            name: format!("region_{}", level + 1),
            label,
            options: options_for
                .iter()
                .map(|r| RegionOption {
                    code: r.code.as_str().to_string(),
                    name: r.name.clone(),
                    selected: chosen.as_deref() == Some(r.code.as_str()),
                })
                .collect(),
        });
        match chain.get(level) {
            Some(region) => options_for = tree.children(&region.code),
            None => break,
        }
    }
    selects
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    side: OrgSide,
    typed: Typed,
    errors: FieldErrors,
    claim_of: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let tree = RegionTree::embedded();
    let chain = region_chain(tree, &typed.regions);
    let title = match side {
        OrgSide::Demand => "需求端企业注册",
        OrgSide::Supplier => "第三方服务机构注册",
    };
    let page = Page::new(state, ctx, title).await;
    let html = RegisterPage {
        page,
        side: side.as_str(),
        selects: region_selects(tree, &chain),
        chosen_region: chain
            .last()
            .map(|r| tree.full_name(&r.code))
            .unwrap_or_default(),
        typed,
        errors,
        claim_of,
        open_regions: open_region_names(state.config.registration_phase),
        licence_limit_mb: LICENCE_LIMIT / (1024 * 1024),
    }
    .render()?;
    Ok(rendered(status, Html(html)))
}

pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(side): Path<String>,
) -> AppResult<Response> {
    let side = parse_side(&side)?;
    render(
        &state,
        &ctx,
        side,
        Typed::default(),
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A contact telephone: digits with the usual separators, 7 to 20 characters.
fn parse_phone(input: &str) -> Result<String, String> {
    let normalised: String = unicode_nfkc(input).trim().to_string();
    let digits = normalised.chars().filter(char::is_ascii_digit).count();
    let allowed = normalised
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '+' | '(' | ')' | '转'));
    if normalised.is_empty() {
        Err("请填写联系电话".into())
    } else if !allowed || !(7..=20).contains(&digits) {
        Err("联系电话格式不正确，例如 0512-59990000 或 13800000000".into())
    } else {
        Ok(normalised)
    }
}

fn unicode_nfkc(input: &str) -> String {
    // Full-width digits and dashes are common in Chinese input methods.
    input
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '－' | '—' | '–' => '-',
            '　' => ' ',
            '＋' => '+',
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

/// The parts of a valid form, ready to be stored.
struct Valid {
    credit_code: CreditCode,
    org_name: OrgName,
    region: String,
    address: Address,
    contact_name: PersonName,
    contact_phone: String,
    login: LoginName,
}

fn validate(
    state: &AppState,
    side: OrgSide,
    typed: &Typed,
    errors: &mut FieldErrors,
) -> Option<Valid> {
    let tree = RegionTree::embedded();
    let credit_code = CreditCode::parse(&typed.credit_code)
        .map_err(|e| errors.credit_code = Some(e.to_string()))
        .ok();
    let org_name = OrgName::parse(&typed.org_name)
        .map_err(|e| errors.org_name = Some(e.to_string()))
        .ok();
    let chain = region_chain(tree, &typed.regions);
    let region = match chain.last() {
        None => {
            errors.region = Some("请选择所在地区".into());
            None
        }
        Some(region) if !tree.is_finest(&region.code) => {
            let next = REGION_LEVELS.get(chain.len()).copied().unwrap_or("下一级");
            errors.region = Some(format!("请继续选择{next}地区，选到最细一级"));
            None
        }
        Some(region) => {
            let phase =
                RegistrationPhase::try_from(state.config.registration_phase).unwrap_or_default();
            if side == OrgSide::Demand && !tree.open_for_demand(&region.code, phase) {
                errors.region = Some(format!(
                    "{}暂未开放需求端企业注册。目前开放的地区：{}。",
                    tree.full_name(&region.code),
                    open_region_names(state.config.registration_phase)
                ));
                None
            } else {
                Some(region.code.as_str().to_string())
            }
        }
    };
    let address = Address::parse(&typed.address)
        .map_err(|e| errors.address = Some(e.to_string()))
        .ok();
    let contact_name = PersonName::parse(&typed.contact_name)
        .map_err(|e| errors.contact_name = Some(e.to_string()))
        .ok();
    let contact_phone = parse_phone(&typed.contact_phone)
        .map_err(|e| errors.contact_phone = Some(e))
        .ok();
    let login = LoginName::parse(&typed.login)
        .map_err(|e| errors.login = Some(e.to_string()))
        .ok();
    (errors.password, errors.password_confirm) = password::new_password_errors(
        &typed.password,
        &typed.password_confirm,
        login.as_ref().map_or(typed.login.trim(), |l| l.as_str()),
    );
    if errors.any() {
        return None;
    }
    Some(Valid {
        credit_code: credit_code?,
        org_name: org_name?,
        region: region?,
        address: address?,
        contact_name: contact_name?,
        contact_phone: contact_phone?,
        login: login?,
    })
}

fn role_for(side: OrgSide) -> Role {
    match side {
        OrgSide::Demand => Role::DemandEnterprise,
        OrgSide::Supplier => Role::Supplier,
    }
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(side): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let side = parse_side(&side)?;
    let mut typed = Typed::default();
    let mut errors = FieldErrors::default();
    let mut stored_licence = None;
    let mut valid = None;
    let mut existing: Option<Organisation> = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::bad_request("form", "表单提交不完整，请重试")
        }
    })? {
        let name = field.name().unwrap_or("").to_string();
        if name == "licence" {
            // The file comes after every text field of the form, so they are known
            // here: store it only when they are valid and a claim needs it.
            let has_file = field.file_name().is_some_and(|f| !f.is_empty());
            if !has_file {
                continue;
            }
            if valid.is_none() {
                valid = validate(&state, side, &typed, &mut errors);
                if let Some(v) = &valid {
                    existing = state.store.organisation_by_code(&v.credit_code).await?;
                }
            }
            if valid.is_some() && existing.is_some() {
                match uploads::receive(&state, field, &LICENCE_POLICY, LICENCE_KEY_PREFIX, None)
                    .await
                {
                    Ok(stored) => stored_licence = Some(stored),
                    Err(UploadError::Internal(e)) => return Err(AppError::Internal(e)),
                    Err(e) => errors.licence = Some(format!("营业执照扫描件：{e}")),
                }
            }
            continue;
        }
        let value = field
            .text()
            .await
            .map_err(|_| AppError::bad_request(&name, "表单提交不完整，请重试"))?;
        let value: String = value.chars().take(1000).collect();
        match name.as_str() {
            "credit_code" => typed.credit_code = value,
            "org_name" => typed.org_name = value,
            "region_1" => typed.regions[0] = value,
            "region_2" => typed.regions[1] = value,
            "region_3" => typed.regions[2] = value,
            "region_4" => typed.regions[3] = value,
            "address" => typed.address = value,
            "contact_name" => typed.contact_name = value,
            "contact_phone" => typed.contact_phone = value,
            "login" => typed.login = value,
            "password" => typed.password = value,
            "password_confirm" => typed.password_confirm = value,
            "action" => typed.action = value,
            _ => {}
        }
    }
    if typed.action != "register" {
        // The region "refresh" button: show the form again with the next level.
        if let Some(stored) = stored_licence {
            uploads::discard(&state, &stored).await;
        }
        return render(
            &state,
            &ctx,
            side,
            typed,
            FieldErrors::default(),
            None,
            StatusCode::OK,
        )
        .await;
    }
    if valid.is_none() && !errors.any() {
        valid = validate(&state, side, &typed, &mut errors);
        if let Some(v) = &valid {
            existing = state.store.organisation_by_code(&v.credit_code).await?;
        }
    }
    let Some(valid) = valid.filter(|_| !errors.any()) else {
        if let Some(stored) = stored_licence {
            uploads::discard(&state, &stored).await;
        }
        let claim_of = existing.map(|o| o.name);
        return render(
            &state,
            &ctx,
            side,
            typed,
            errors,
            claim_of,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    if state
        .store
        .account_by_login(valid.login.as_str())
        .await?
        .is_some()
    {
        if let Some(stored) = stored_licence {
            uploads::discard(&state, &stored).await;
        }
        errors.login = Some("该手机号码或邮箱已注册，请直接登录；忘记密码可以重新设置。".into());
        let claim_of = existing.map(|o| o.name);
        return render(
            &state,
            &ctx,
            side,
            typed,
            errors,
            claim_of,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let now = state.clock.unix();
    let password_hash =
        password::hash_password(typed.password.clone(), state.config.password_cost).await?;
    let (account_id, detail) = match existing {
        None => {
            let org = NewOrganisation {
                credit_code: &valid.credit_code,
                name: valid.org_name.as_str(),
                side,
                region_code: &valid.region,
                address: valid.address.as_str(),
                contact_name: valid.contact_name.as_str(),
                contact_phone: &valid.contact_phone,
                source: "registration",
                sample: false,
            };
            let account = NewAccount {
                login: valid.login.as_str(),
                display_name: valid.contact_name.as_str(),
                role: role_for(side),
                organisation_id: None,
                province_code: None,
                password_hash: &password_hash,
            };
            let review_province = review_queue::route_province(&state.config, &valid.region);
            match state
                .store
                .register_organisation(&org, &account, &review_province, now)
                .await
            {
                Ok((org_id, account_id)) => {
                    audit::record(
                        &state,
                        &ctx,
                        Actor::attempted(valid.login.as_str()),
                        "organisation.register",
                        &format!("organisation:{org_id}"),
                        Outcome::Success,
                        valid.credit_code.as_str(),
                    )
                    .await?;
                    (account_id, "registered")
                }
                Err(StoreError::Conflict) => {
                    // Someone registered the same code or login a moment ago.
                    errors.credit_code = Some(
                        "该统一社会信用代码或登录名刚刚已被注册，请重新提交以申请认领。".into(),
                    );
                    return render(
                        &state,
                        &ctx,
                        side,
                        typed,
                        errors,
                        None,
                        StatusCode::CONFLICT,
                    )
                    .await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Some(organisation) => {
            let Some(stored) = stored_licence else {
                if errors.licence.is_none() {
                    errors.licence = Some("请上传营业执照扫描件（PDF、JPG 或 PNG）".into());
                }
                return render(
                    &state,
                    &ctx,
                    side,
                    typed,
                    errors,
                    Some(organisation.name),
                    StatusCode::OK,
                )
                .await;
            };
            let account = NewAccount {
                login: valid.login.as_str(),
                display_name: valid.contact_name.as_str(),
                role: role_for(organisation.side),
                organisation_id: None,
                province_code: None,
                password_hash: &password_hash,
            };
            let province = review_queue::route_province(&state.config, &organisation.region_code);
            match state
                .store
                .register_claimant(
                    &account,
                    organisation.id,
                    &province,
                    &stored.storage_key,
                    stored.kind.mime(),
                    now,
                )
                .await
            {
                Ok((account_id, claim_id)) => {
                    // Uploaded before the account existed: now it is the claimant's.
                    state.store.set_file_owner(stored.id, account_id).await?;
                    audit::record(
                        &state,
                        &ctx,
                        Actor::attempted(valid.login.as_str()),
                        "claim.submit",
                        &format!("claim:{claim_id}"),
                        Outcome::Success,
                        &format!("organisation:{}", organisation.id),
                    )
                    .await?;
                    (account_id, "claim")
                }
                Err(StoreError::Conflict) => {
                    uploads::discard(&state, &stored).await;
                    errors.login = Some("该手机号码或邮箱已注册，请直接登录。".into());
                    return render(
                        &state,
                        &ctx,
                        side,
                        typed,
                        errors,
                        Some(organisation.name),
                        StatusCode::CONFLICT,
                    )
                    .await;
                }
                Err(other) => {
                    uploads::discard(&state, &stored).await;
                    return Err(other.into());
                }
            }
        }
    };
    let token = greenbridge_store::new_token();
    state
        .store
        .create_session(
            &token,
            account_id,
            true,
            &ctx.ip,
            &RequestContext::user_agent(&headers),
            now,
        )
        .await?;
    Ok(with_session_cookie(
        Redirect::to(&format!("/account?done={detail}")).into_response(),
        &token,
        ctx.https,
    ))
}
