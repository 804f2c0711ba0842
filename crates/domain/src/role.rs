//! Roles and what each may do.
//!
//! [`ROLE_PERMISSIONS`] is the one place the mapping lives. Scope (a
//! reviewer's province, an enterprise's own organisation) is not part of a
//! permission: it is checked where the object is known.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The role of an account. Visitors have no account and no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 需求端企业: self-registers, posts demands, rates suppliers.
    DemandEnterprise,
    /// 第三方服务机构: self-registers, keeps its profile, quotes.
    Supplier,
    /// 协会审核员: reviews its own province's registrations and content.
    Reviewer,
    /// 专家: answers questions routed to them.
    Expert,
    /// 政府查看: reads statistics and reports.
    GovernmentViewer,
    /// 运维管理员: configures the platform.
    Admin,
}

/// A role name that is not one of the [`Role::as_str`] strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的角色")]
pub struct RoleError;

impl Role {
    pub const ALL: [Role; 6] = [
        Role::DemandEnterprise,
        Role::Supplier,
        Role::Reviewer,
        Role::Expert,
        Role::GovernmentViewer,
        Role::Admin,
    ];

    /// The stable identifier stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DemandEnterprise => "demand",
            Self::Supplier => "supplier",
            Self::Reviewer => "reviewer",
            Self::Expert => "expert",
            Self::GovernmentViewer => "government",
            Self::Admin => "admin",
        }
    }

    /// The role's name in the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::DemandEnterprise => "需求端企业",
            Self::Supplier => "第三方服务机构",
            Self::Reviewer => "协会审核员",
            Self::Expert => "专家",
            Self::GovernmentViewer => "政府查看",
            Self::Admin => "运维管理员",
        }
    }

    /// Whether accounts of this role are created by an admin (or, for admins,
    /// on the command line) rather than by self-registration.
    pub fn is_staff(self) -> bool {
        !matches!(self, Self::DemandEnterprise | Self::Supplier)
    }

    /// What this role may do, from [`ROLE_PERMISSIONS`].
    pub fn permissions(self) -> &'static [Permission] {
        ROLE_PERMISSIONS
            .iter()
            .find(|(role, _)| *role == self)
            .map_or(&[], |(_, permissions)| permissions)
    }

    /// Whether this role has `permission`.
    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or(RoleError)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Something a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Edit the own organisation's profile, qualifications and demands.
    ManageOwnOrganisation,
    /// Add colleagues as further accounts of the own organisation.
    InviteColleagues,
    /// Review registrations, claims, profiles, demands and FAQ answers;
    /// scoped to the reviewer's province.
    ReviewRegistrations,
    /// Reset the password of another account (reviewers: their province's
    /// organisations only).
    ResetOtherPasswords,
    /// Create reviewer, expert, government and admin accounts.
    CreateStaffAccounts,
    /// Switch modules on and off and edit their configuration.
    ConfigureModules,
    ViewAuditLog,
    ViewStatistics,
    /// Answer questions the assistant could not answer.
    AnswerRoutedQuestions,
    /// Publish 绿色课堂 courses: create them and upload their lessons (videos,
    /// courseware, captions).
    ManageCourses,
    /// Add and edit 标准政策 documents, their interpretations (政策解读) and
    /// knowledge-base articles (业务知识库): the associations and the admins.
    ManageRegulations,
    /// Add and edit entries of the 智能问答 FAQ base: the associations and the
    /// admins (experts answer routed questions; publishing their answers into
    /// the base is the associations' call).
    ManageFaq,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ManageOwnOrganisation,
        Permission::InviteColleagues,
        Permission::ReviewRegistrations,
        Permission::ResetOtherPasswords,
        Permission::CreateStaffAccounts,
        Permission::ConfigureModules,
        Permission::ViewAuditLog,
        Permission::ViewStatistics,
        Permission::AnswerRoutedQuestions,
        Permission::ManageCourses,
        Permission::ManageRegulations,
        Permission::ManageFaq,
    ];
}

use Permission as P;

/// Which role may do what; every role appears exactly once.
///
/// Decisions:
/// - Reviewers also answer routed questions: association staff answer what
///   the assistant cannot (DESIGN: "go to association staff and experts").
/// - Admins run the platform: configuration, staff accounts, audit log,
///   statistics and password resets, and they may review registrations
///   everywhere (scope checks treat an admin as unscoped) so that a province
///   without a reviewer is not stuck. They do not manage or invite into an
///   organisation (they belong to none) and do not answer routed questions:
///   answers grow the FAQ base and carry an expert's or an association's
///   name.
pub const ROLE_PERMISSIONS: &[(Role, &[Permission])] = &[
    (
        Role::DemandEnterprise,
        &[P::ManageOwnOrganisation, P::InviteColleagues],
    ),
    (
        Role::Supplier,
        &[P::ManageOwnOrganisation, P::InviteColleagues],
    ),
    (
        Role::Reviewer,
        &[
            P::ReviewRegistrations,
            P::ResetOtherPasswords,
            P::AnswerRoutedQuestions,
            P::ManageCourses,
            P::ManageRegulations,
            P::ManageFaq,
        ],
    ),
    (Role::Expert, &[P::AnswerRoutedQuestions]),
    (Role::GovernmentViewer, &[P::ViewStatistics]),
    (
        Role::Admin,
        &[
            P::ReviewRegistrations,
            P::ResetOtherPasswords,
            P::CreateStaffAccounts,
            P::ConfigureModules,
            P::ViewAuditLog,
            P::ViewStatistics,
            P::ManageCourses,
            P::ManageRegulations,
            P::ManageFaq,
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_granted_to_at_least_one_role() {
        for permission in Permission::ALL {
            assert!(
                Role::ALL.iter().any(|r| r.can(permission)),
                "{permission:?} is granted to no role"
            );
        }
    }

    #[test]
    fn every_role_appears_exactly_once_in_the_table() {
        for role in Role::ALL {
            let rows = ROLE_PERMISSIONS.iter().filter(|(r, _)| *r == role).count();
            assert_eq!(rows, 1, "{role:?}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_strings() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!("需求端企业".parse::<Role>(), Err(RoleError));
        assert_eq!(
            serde_json::from_str::<Role>("\"government\"").unwrap(),
            Role::GovernmentViewer
        );
    }

    #[test]
    fn only_self_registered_roles_are_not_staff() {
        let staff: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_staff()).collect();
        assert_eq!(
            staff,
            [
                Role::Reviewer,
                Role::Expert,
                Role::GovernmentViewer,
                Role::Admin
            ]
        );
    }

    #[test]
    fn organisations_manage_themselves_and_nothing_else() {
        for role in [Role::DemandEnterprise, Role::Supplier] {
            assert!(role.can(Permission::ManageOwnOrganisation));
            assert!(role.can(Permission::InviteColleagues));
            assert!(!role.can(Permission::ReviewRegistrations));
            assert!(!role.can(Permission::ViewStatistics));
        }
    }

    #[test]
    fn staff_roles_get_their_own_duties() {
        assert!(Role::Reviewer.can(Permission::ReviewRegistrations));
        assert!(Role::Reviewer.can(Permission::ResetOtherPasswords));
        assert!(!Role::Reviewer.can(Permission::ConfigureModules));
        assert!(Role::Expert.can(Permission::AnswerRoutedQuestions));
        assert!(!Role::Expert.can(Permission::ViewStatistics));
        assert_eq!(
            Role::GovernmentViewer.permissions(),
            [Permission::ViewStatistics]
        );
    }

    #[test]
    fn admins_configure_but_do_not_answer_questions() {
        assert!(Role::Admin.can(Permission::ConfigureModules));
        assert!(Role::Admin.can(Permission::CreateStaffAccounts));
        assert!(Role::Admin.can(Permission::ViewAuditLog));
        assert!(!Role::Admin.can(Permission::AnswerRoutedQuestions));
        assert!(!Role::Admin.can(Permission::ManageOwnOrganisation));
    }
}
