//! GreenBridge (绿桥) domain types and rules.
//!
//! This is the bottom layer of the workspace: pure types, no I/O and no async.
//! Values are built by parsing ("parse, don't validate"): once a [`CreditCode`],
//! [`RegionCode`] or [`LoginName`] exists it is valid, so the layers above never
//! re-check it. Parse errors carry plain zh-CN messages because they are shown
//! to end users on forms.
//!
//! Reference data (regions, HW categories and waste codes, service categories)
//! is embedded from `reference/*.csv` at compile time and parsed once on first use.

#[macro_use]
mod macros;
mod reference;
mod text;

pub mod account;
pub mod credit_code;
pub mod file_kind;
pub mod gov_system;
pub mod hw;
pub mod module;
pub mod money;
pub mod notice;
pub mod region;
pub mod regulation;
pub mod role;
pub mod sensitive;
pub mod service_category;
pub mod time;
pub mod totp;

pub use crate::time::{DateError, SHANGHAI, format_datetime_zh, parse_date, shanghai_date};
pub use account::{
    Address, EmailAddress, LoginName, LoginNameError, MobileNumber, OrgName, PasswordError,
    PasswordPolicy, PersonName, TextFieldError, check_password,
};
pub use credit_code::{CREDIT_CODE_LEN, CreditCode, CreditCodeError};
pub use file_kind::FileKind;
pub use hw::{
    AliasTarget, HwCatalogue, HwCategory, HwCategoryEntry, HwCategoryError, WasteAlias, WasteCode,
    WasteCodeEntry, WasteCodeError,
};
pub use module::{Module, ModuleError};
pub use money::{AmountUnit, Money, MoneyError};
pub use notice::{NoticeDateTime, NoticeType};
pub use reference::ReferenceDataError;
pub use region::{
    Region, RegionCode, RegionCodeError, RegionLevel, RegionLevelError, RegionTree,
    RegistrationPhase, RegistrationPhaseError,
};
pub use role::{Permission, ROLE_PERMISSIONS, Role, RoleError};
pub use service_category::{ServiceCatalogue, ServiceCategory};
pub use totp::{encode_secret, otpauth_uri, totp_at, verify_totp};
