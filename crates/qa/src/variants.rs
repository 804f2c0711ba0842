//! Traditional → simplified folding for the characters enterprise questions use.
//!
//! Some users type with a traditional-character input method (排污許可的執行報告).
//! NFKC does not fold those, and the FAQ base is written in simplified characters,
//! so a question in traditional characters would share almost no words or bigrams
//! with its entry. This is a table of common one-to-one pairs, not a full
//! conversion: characters whose simplified form depends on the word are left out.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Pairs written as `traditional simplified` runs of equal length.
const PAIRS: &[(&str, &str)] = &[
    (
        "許執報還嗎環廢處廠證規劃審批單據險設計區縣鎮務發電腦對應們這個時間問題關係機構",
        "许执报还吗环废处厂证规划审批单据险设计区县镇务发电脑对应们这个时间问题关系机构",
    ),
    (
        "氣聲質監測驗採樣數據標準級質量濃度總廢棄處置運輸轉移聯單記錄檔責護營銷業產廢",
        "气声质监测验采样数据标准级质量浓度总废弃处置运输转移联单记录档责护营销业产废",
    ),
    (
        "環評價響報書表登備案辦證許條例辦法規範徵繳費稅務會議調查處罰款違讓開關閉嚴重",
        "环评价响报书表登备案办证许条例办法规范征缴费税务会议调查处罚款违让开关闭严重",
    ),
    (
        "讓請說話語詞讀寫聽見觀視親愛東車輛貨運輸達過進遠還這邊後來兩個種類別點線與為",
        "让请说话语词读写听见观视亲爱东车辆货运输达过进远还这边后来两个种类别点线与为",
    ),
    (
        "廠區園業務實際場應該樣條件換將會當導態層顯獲權歸屬劑藥醫療衛灣漢韓銀錢鐵鋼鋁",
        "厂区园业务实际场应该样条件换将会当导态层显获权归属剂药医疗卫湾汉韩银钱铁钢铝",
    ),
    (
        "礦體爐煙塵滅燒熱燈電池鉛汞鎘鉻鎳銅鋅錫蓄壓線網絡訊號碼確認證變動舊新現狀況",
        "矿体炉烟尘灭烧热灯电池铅汞镉铬镍铜锌锡蓄压线网络讯号码确认证变动旧新现状况",
    ),
    (
        "復雜簡單積極組織團隊負擔擔保險檢測試驗儀器裝備設施維護修養護級別類劃分範圍圍",
        "复杂简单积极组织团队负担担保险检测试验仪器装备设施维护修养护级别类划分范围围",
    ),
    (
        "嗎呢麼麽幾個還沒將會須需應當該們嘅們這那邊裡裏麵頭樣從給於與並並且雖然認為覺",
        "吗呢么么几个还没将会须需应当该们嘅们这那边里里面头样从给于与并并且虽然认为觉",
    ),
    (
        "學習經濟營運時間場所島縣區轄屬鄉鎮村資源資料資質資格幫協會員專長證書繼續續簽",
        "学习经济营运时间场所岛县区辖属乡镇村资源资料资质资格帮协会员专长证书继续续签",
    ),
    (
        "罰處懲戒違規違法訴訟復議聽證決執補償賠損傷殘亂濫偽劣竊盜騙詐傳達遞郵寄號碼賬",
        "罚处惩戒违规违法诉讼复议听证决执补偿赔损伤残乱滥伪劣窃盗骗诈传达递邮寄号码账",
    ),
    (
        "汙濁淨潔滲漏污沒淺濕溫濃濾澤瀝灑灣湧溝渦鹼鹽釋漿灘瀕潛滯漲淪滷淚湊準減涼",
        "污浊净洁渗漏污没浅湿温浓滤泽沥洒湾涌沟涡碱盐释浆滩濒潜滞涨沦卤泪凑准减凉",
    ),
    (
        "噪聲響隔聲頻夜間晝間邊界廠界敏感點居民樓測點監控風險評估預警應急預案演練",
        "噪声响隔声频夜间昼间边界厂界敏感点居民楼测点监控风险评估预警应急预案演练",
    ),
];

static MAP: OnceLock<HashMap<char, char>> = OnceLock::new();

fn map() -> &'static HashMap<char, char> {
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for (traditional, simplified) in PAIRS {
            for (t, s) in traditional.chars().zip(simplified.chars()) {
                if t != s {
                    map.insert(t, s);
                }
            }
        }
        map
    })
}

/// `text` with the traditional characters of the table replaced.
pub fn simplify(text: &str) -> String {
    let map = map();
    text.chars().map(|c| *map.get(&c).unwrap_or(&c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_pairs_characters_one_to_one() {
        for (traditional, simplified) in PAIRS {
            assert_eq!(
                traditional.chars().count(),
                simplified.chars().count(),
                "{traditional}"
            );
        }
    }

    #[test]
    fn simplified_text_is_left_alone() {
        assert_eq!(simplify("排污许可执行报告"), "排污许可执行报告");
        assert_eq!(
            simplify("排污許可執行報告還用交嗎"),
            "排污许可执行报告还用交吗"
        );
    }
}
