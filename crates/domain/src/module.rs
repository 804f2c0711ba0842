//! The five public modules of the site, in the order of the home page.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A public module: an entry of the navigation and of the home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    /// 惠企服务: the supplier directory.
    Services,
    /// 需求大厅: notices and demands.
    Demands,
    /// 标准政策: laws, regulations and standards.
    Regulations,
    /// 绿色课堂: training videos and courseware.
    Classroom,
    /// 智能问答: the assistant.
    Assistant,
}

/// A slug that names no module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的功能模块")]
pub struct ModuleError;

impl Module {
    /// Every module, in the order of the navigation.
    pub const ALL: [Module; 5] = [
        Module::Services,
        Module::Demands,
        Module::Regulations,
        Module::Classroom,
        Module::Assistant,
    ];

    /// The stable identifier used in configuration and URLs.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Services => "services",
            Self::Demands => "demands",
            Self::Regulations => "regulations",
            Self::Classroom => "classroom",
            Self::Assistant => "assistant",
        }
    }

    /// The module's name in the navigation.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Services => "惠企服务",
            Self::Demands => "需求大厅",
            Self::Regulations => "标准政策",
            Self::Classroom => "绿色课堂",
            Self::Assistant => "智能问答",
        }
    }

    /// One plain sentence for the home page.
    pub fn summary_zh(self) -> &'static str {
        match self {
            Self::Services => "按地区、服务类别和资质查找第三方环保服务机构，了解办事指南。",
            Self::Demands => "查看招标采购公告和企业发布的环保服务需求。",
            Self::Regulations => "查询生态环境法律法规、标准和政策文件及其效力状态。",
            Self::Classroom => "观看环保培训视频，下载学习课件。",
            Self::Assistant => "提出环保问题，获得常见问题解答；暂时答不上的交由协会和专家回复。",
        }
    }

    /// The path of the module's start page.
    pub fn path(self) -> &'static str {
        match self {
            Self::Services => "/services",
            Self::Demands => "/demands",
            Self::Regulations => "/regulations",
            Self::Classroom => "/classroom",
            Self::Assistant => "/assistant",
        }
    }
}

impl FromStr for Module {
    type Err = ModuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.slug() == s)
            .ok_or(ModuleError)
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl Serialize for Module {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.slug())
    }
}

impl<'de> Deserialize<'de> for Module {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_round_trip_through_their_slugs() {
        for module in Module::ALL {
            assert_eq!(module.slug().parse(), Ok(module));
            assert_eq!(serde_json::to_value(module).unwrap(), module.slug());
        }
        assert_eq!("Services".parse::<Module>(), Err(ModuleError));
    }

    #[test]
    fn paths_are_the_slug_under_the_root() {
        for module in Module::ALL {
            assert_eq!(module.path(), format!("/{}", module.slug()));
        }
    }

    #[test]
    fn every_module_has_a_name_and_a_one_sentence_summary() {
        assert_eq!(Module::Services.name_zh(), "惠企服务");
        assert_eq!(Module::Assistant.name_zh(), "智能问答");
        for module in Module::ALL {
            let summary = module.summary_zh();
            assert!(summary.ends_with('。'));
            assert_eq!(summary.matches('。').count(), 1, "{summary}");
        }
    }
}
