//! Synthetic but realistic Chinese data: names, phone numbers, 居民身份证号 with valid
//! check characters, addresses, and petition texts made from templates and word lists.
//! Everything is drawn from the caller's seeded PRNG, so a seed gives the same data.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::seq::IndexedRandom;

pub type Prng = rand_chacha::ChaCha8Rng;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪",
    "田", "任", "姜", "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康", "毛",
    "邱", "秦", "江", "史", "欧阳", "司马", "上官",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "建华", "建国", "玉兰", "志强", "淑珍", "海燕", "文", "红", "鑫", "宇", "浩",
    "凯", "佳", "婷", "晨", "雪", "琳", "欣怡", "子轩", "梓涵", "俊杰", "国庆", "淑华", "德华", "振华", "春梅", "冬梅",
    "秋菊", "金凤", "宝山", "长江", "立新", "卫东", "红梅", "丽娟", "学军", "永强", "海涛", "晓东", "雅琴", "慧敏",
    "思远", "嘉怡",
];

/// Districts of the generated city, with their 行政区划代码 (for identity numbers).
pub const DISTRICTS: &[(&str, &str)] = &[
    ("和平区", "120101"),
    ("河东区", "120102"),
    ("河西区", "120103"),
    ("南开区", "120104"),
    ("河北区", "120105"),
    ("红桥区", "120106"),
    ("东丽区", "120110"),
    ("西青区", "120111"),
    ("津南区", "120112"),
    ("北辰区", "120113"),
    ("武清区", "120114"),
    ("宝坻区", "120115"),
    ("滨海新区", "120116"),
    ("宁河区", "120117"),
    ("静海区", "120118"),
    ("蓟州区", "120119"),
];

const PLACE_A: &[&str] = &[
    "万兴",
    "学府",
    "长虹",
    "王顶堤",
    "华苑",
    "体育中心",
    "嘉陵道",
    "鼓楼",
    "广开",
    "兴南",
    "向阳",
    "水上",
    "天塔",
    "柳林",
    "金钟",
    "新开河",
    "大直沽",
    "唐家口",
    "春华",
    "尖山",
    "友谊路",
    "梅江",
    "陈塘庄",
    "越秀路",
    "挂甲寺",
    "马场",
    "桃园",
    "五大道",
    "劝业场",
    "小白楼",
    "新兴",
    "南市",
    "铁东路",
    "月牙河",
    "建昌道",
    "宁园",
    "望海楼",
    "光复道",
    "江都路",
    "西于庄",
];
const PLACE_B: &[&str] = &["", "东", "西", "南", "北", "新"];

const ESTATES: &[&str] = &[
    "花园", "里", "新村", "家园", "公寓", "小区", "苑", "雅居", "名邸", "东里", "西里", "北里", "南里", "新苑", "佳园",
];

const DEPARTMENTS: &[&str] = &["党政办公室", "综合执法大队", "司法所", "信访办", "平安建设办公室"];

/// Names of the standard departments of every generated street (the 信访办 desk is [3]).
pub fn departments() -> &'static [&'static str] {
    DEPARTMENTS
}

/// A unique name for street `i` of a district (街道 for most, 镇 for outer districts).
pub fn street_name(district: usize, i: usize) -> String {
    let n = PLACE_A.len();
    let k = district * 37 + i;
    let a = PLACE_A[k % n];
    let b = PLACE_B[(k / n) % PLACE_B.len()];
    let suffix = if district >= 6 && i % 3 == 2 { "镇" } else { "街道" };
    format!("{a}{b}{suffix}")
}

/// A community name, unique within its street.
pub fn community_name(rng: &mut Prng, used: &mut Vec<String>) -> String {
    loop {
        let a = PLACE_A.choose(rng).copied().unwrap_or("万兴");
        let e = ESTATES.choose(rng).copied().unwrap_or("里");
        let name = format!("{a}{e}社区");
        if !used.contains(&name) {
            used.push(name.clone());
            return name;
        }
    }
}

pub fn person_name(rng: &mut Prng) -> String {
    let s = SURNAMES.choose(rng).copied().unwrap_or("王");
    let g = GIVEN.choose(rng).copied().unwrap_or("伟");
    format!("{s}{g}")
}

/// An 11-digit mobile number from a real 号段.
pub fn mobile(rng: &mut Prng) -> String {
    const PREFIX: &[&str] = &[
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "158", "159",
        "166", "177", "180", "181", "186", "187", "188", "189", "199",
    ];
    let p = PREFIX.choose(rng).copied().unwrap_or("139");
    format!("{p}{:08}", rng.random_range(0..100_000_000u32))
}

/// A 居民身份证号 (GB 11643-1999) with a valid birth date and check character.
pub fn citizen_id(rng: &mut Prng, region: &str, today: NaiveDate) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let age_days = rng.random_range(18 * 365..90 * 365);
    let birth = today - chrono::Duration::days(age_days);
    let body =
        format!("{region}{:04}{:02}{:02}{:03}", birth.year(), birth.month(), birth.day(), rng.random_range(0..1000u32));
    let sum: u32 = body.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    format!("{body}{}", CHECK[(sum % 11) as usize])
}

/// One kind of matter people bring to a street: subject (事项类型), title patterns and
/// the sentences their letters are made of.
struct Matter {
    subject: &'static str,
    titles: &'static [&'static str],
    facts: &'static [&'static str],
    asks: &'static [&'static str],
}

const MATTERS: &[Matter] = &[
    Matter {
        subject: "物业",
        titles: &[
            "小区电梯长期停运",
            "物业公司不履行维修义务",
            "物业费上涨未经业主大会",
            "小区公共收益去向不明",
            "物业撤场后无人管理",
        ],
        facts: &[
            "小区电梯已停运两个多月，物业公司以专项维修资金不足为由拒不维修",
            "物业公司未经业主大会表决擅自上调物业费，且服务质量明显下降",
            "楼道照明损坏半年无人维修，老人夜间上下楼多次摔倒",
            "小区广告位和停车位收益从未公示，业主多次询问物业均不予答复",
            "原物业公司合同到期后撤场，垃圾无人清运，门禁系统瘫痪",
            "地下车库渗水严重，物业只是临时用沙袋封堵",
        ],
        asks: &[
            "请求街道督促物业公司尽快维修电梯",
            "请求相关部门依法查处物业公司违规收费行为",
            "希望街道指导成立业主委员会，依法选聘新的物业公司",
            "请求公开小区公共收益账目",
        ],
    },
    Matter {
        subject: "消防",
        titles: &["消防通道被占用", "楼道堆物和飞线充电", "消防设施损坏无人维修", "群租房存在火灾隐患"],
        facts: &[
            "楼道和消防通道长期堆放电动自行车、纸箱等杂物，并有住户从窗口飞线充电",
            "小区消防栓无水，灭火器过期多年，物业表示没有经费更换",
            "一楼住户将住宅改为群租房，隔出十几个房间，存在严重火灾隐患",
            "消防车通道被私家车长期占用，一旦发生火情后果不堪设想",
        ],
        asks: &["请求网格员和消防部门上门检查并督促清理", "请求依法查处群租行为", "请求施划消防通道标线并加强巡查"],
    },
    Matter {
        subject: "噪声",
        titles: &["夜间施工噪声扰民", "广场舞音响声音过大", "商铺外放音响扰民", "空调外机噪声纠纷"],
        facts: &[
            "附近工地夜间十一点后仍在施工，混凝土搅拌声严重影响周边居民休息",
            "每天晚上七点到十点，小区广场有人使用大功率音响跳广场舞",
            "临街商铺在门口摆放音响循环播放促销广告，从早到晚不停",
            "邻居新装的空调外机正对我家卧室窗户，夜间噪声很大",
        ],
        asks: &["请求有关部门依法查处夜间违规施工", "希望社区协调控制音量和时间", "请求城管部门依法处理"],
    },
    Matter {
        subject: "劳资",
        titles: &["拖欠农民工工资", "公司拒不支付加班费", "装修公司拖欠工程款", "用人单位未缴纳社会保险"],
        facts: &[
            "某装修公司拖欠我们十二名工人三个月工资共计八万余元，多次讨要未果",
            "公司长期要求加班却不支付加班费，也不安排调休",
            "我在某餐饮公司工作两年，公司一直未为我缴纳社会保险",
            "项目完工已半年，总包单位以审计未完成为由拒付工程款",
        ],
        asks: &["请求街道协调劳动监察部门依法处理", "请求依法督促公司支付拖欠的工资", "希望通过人民调解解决纠纷"],
    },
    Matter {
        subject: "邻里",
        titles: &["楼上漏水纠纷", "邻居占用公共部位", "宠物扰民纠纷", "相邻采光通风纠纷"],
        facts: &[
            "楼上住户卫生间防水层损坏，导致我家天花板大面积渗水发霉，协商多次不成",
            "邻居在楼道公共部位安装铁门，将公共空间据为己有",
            "邻居饲养多条大型犬，每天夜间吠叫，且不拴绳遛狗",
            "邻居加建阳台，挡住了我家客厅的采光",
        ],
        asks: &["请求人民调解委员会组织调解", "请求社区上门协调", "请求依法责令恢复原状"],
    },
    Matter {
        subject: "拆违",
        titles: &["楼顶私搭乱建", "一楼住户违规扩建", "占用绿地搭建彩钢房", "违法建设影响楼体安全"],
        facts: &[
            "顶层住户在楼顶搭建彩钢房，影响楼体安全和邻居采光，且存在漏水隐患",
            "一楼住户擅自拆除承重墙并向外扩建小院，占用公共绿地",
            "有人在小区绿地上搭建彩钢房用于经营，长期无人处理",
        ],
        asks: &["请求综合执法部门依法拆除违法建设", "请求依法查处并责令恢复原状"],
    },
    Matter {
        subject: "市容",
        titles: &["占道经营影响通行", "夜市油烟扰民", "共享单车乱停乱放", "建筑垃圾随意倾倒"],
        facts: &[
            "菜市场周边商户占道经营，早晚高峰道路拥堵，行人只能走机动车道",
            "夜市烧烤摊油烟直排，周边居民无法开窗",
            "地铁站出口共享单车堆积如山，盲道被完全堵死",
            "有车辆夜间在路边倾倒建筑垃圾，白天尘土飞扬",
        ],
        asks: &["请求城管部门加强巡查并依法处理", "请求规范经营时间和区域", "请求及时清运并查处倾倒行为"],
    },
    Matter {
        subject: "环境卫生",
        titles: &["垃圾清运不及时", "下水道堵塞污水外溢", "小区内蚊虫滋生", "垃圾分类设施不足"],
        facts: &[
            "小区垃圾桶满溢，清运不及时，夏季气味难闻，蚊蝇滋生",
            "小区下水道多次堵塞，污水漫到楼门口，物业只做简单疏通",
            "垃圾分类投放点设置过少，且经常无人值守",
        ],
        asks: &["请求增加清运频次", "请求有关部门彻底疏通改造管网", "请求增设投放点并安排督导员"],
    },
    Matter {
        subject: "拆迁安置",
        titles: &["安置房迟迟不能交付", "拆迁补偿标准不公", "过渡费停发"],
        facts: &[
            "我家房屋于三年前被征收，约定的安置房至今未能交付",
            "同一片区的补偿标准前后不一，我家补偿明显低于邻居",
            "安置房延期交付后，过渡安置费从去年起停止发放",
        ],
        asks: &["请求公开征收补偿方案和评估报告", "请求按协议继续发放过渡费", "请求说明交付时间并依法处理"],
    },
    Matter {
        subject: "教育",
        titles: &["校外培训机构退费难", "学校周边交通安全隐患", "入学划片问题咨询"],
        facts: &[
            "孩子报名的校外培训机构突然停课，预交的两万元学费无法退还",
            "小学门口上下学时段车辆乱停，学生过马路十分危险",
            "新建小区尚未纳入学区划片范围，适龄儿童入学无着落",
        ],
        asks: &["请求有关部门督促退费", "请求增设交通设施和护学岗", "请求教育部门明确划片方案"],
    },
    Matter {
        subject: "社会保障",
        titles: &["低保申请未获批准", "残疾人补贴发放问题", "高龄津贴未到账"],
        facts: &[
            "我家因病致贫，申请低保已三个月未获答复",
            "我是二级肢体残疾人，今年的护理补贴至今未发放",
            "我母亲今年满八十周岁，高龄津贴一直没有到账",
        ],
        asks: &["请求依法审核并答复", "请求查明原因尽快发放", "请求告知办理流程和所需材料"],
    },
    Matter {
        subject: "食品安全",
        titles: &["超市销售过期食品", "无证餐饮店卫生堪忧", "校园周边食品安全问题"],
        facts: &[
            "在小区附近超市购买的牛奶已过保质期，商家拒绝退换",
            "街边一家无证餐馆后厨脏乱，多人就餐后出现腹泻",
            "学校周边小卖部销售三无辣条等零食",
        ],
        asks: &["请求市场监管部门依法查处", "请求开展专项检查"],
    },
];

/// Generic sentences that make a letter longer, as real letters are.
const FILLERS: &[&str] = &[
    "此事已经持续很长时间，我们多次向物业和社区反映，但一直没有得到解决",
    "我家中有年迈的父母和上学的孩子，这个问题给全家生活带来很大困扰",
    "周边很多居民都有同样的意见，大家联名签字希望引起重视",
    "我们曾拨打过12345热线，接线员表示会转交相关部门，但至今没有回音",
    "我们相信政府会依法依规处理，也愿意配合调查、提供证据材料",
    "现附上照片和视频若干，能够证明上述情况属实",
    "如果问题得不到解决，我们将依法向上级机关反映",
    "希望相关部门能够实地查看，听取我们的意见，给出明确答复",
    "根据有关法律法规的规定，我们认为对方的做法明显不妥",
    "去年同样的问题曾经处理过一次，但没过多久又恢复原样",
    "有关单位工作人员来过一次，拍照后便再无下文",
    "我们理解基层工作的难处，但群众的合理诉求应当得到回应",
    "此前社区组织过一次协调会，双方没有达成一致意见",
    "该问题涉及多个部门，希望街道牵头统筹协调",
    "恳请领导在百忙之中过问此事",
];

/// Words that appear in very few items (the suite searches for one).
pub const RARE_TERMS: &[&str] = &["古树名木", "文物保护单位", "非物质文化遗产", "地下防空洞"];
/// A word that appears in many items.
pub const COMMON_TERM: &str = "物业";

/// One generated petition item (plain data; the generator turns it into an IntakeDraft).
#[derive(Debug, Clone)]
pub struct Letter {
    pub subject: &'static str,
    pub title: String,
    pub content: String,
}

/// A letter about a matter in `place`, with a body of roughly 20–2,000 characters
/// (most are a few hundred, as real ones are).
pub fn letter(rng: &mut Prng, place: &str) -> Letter {
    let m = MATTERS.choose(rng).unwrap_or(&MATTERS[0]);
    let building = rng.random_range(1..=40);
    let title_core = m.titles.choose(rng).copied().unwrap_or("诉求");
    let title =
        if rng.random_bool(0.6) { format!("{place}{building}号楼{title_core}") } else { title_core.to_owned() };
    let target = match rng.random_range(0..100) {
        0..=9 => rng.random_range(20..60),
        10..=69 => rng.random_range(60..300),
        70..=94 => rng.random_range(300..900),
        _ => rng.random_range(900..2000),
    };
    let fact = m.facts.choose(rng).copied().unwrap_or("");
    let ask = m.asks.choose(rng).copied().unwrap_or("");
    let mut content = if target < 60 {
        format!("{fact}。")
    } else {
        format!("本人系{place}{building}号楼{}门居民。{fact}。", rng.random_range(1..=6))
    };
    if rng.random_range(0..1000) < 3 {
        let rare = RARE_TERMS.choose(rng).copied().unwrap_or("古树名木");
        content.push_str(&format!("另外，附近的{rare}也受到影响。"));
    }
    let reserve = if target >= 60 { ask.chars().count() + 3 } else { 0 };
    while content.chars().count() + reserve < target {
        let f = if rng.random_bool(0.3) {
            m.facts.choose(rng).copied().unwrap_or("")
        } else {
            FILLERS.choose(rng).copied().unwrap_or("")
        };
        content.push_str(f);
        content.push('。');
    }
    if target >= 60 {
        content.push_str(&format!("为此，{ask}。"));
    }
    let content: String = content.chars().take(2000).collect();
    Letter { subject: m.subject, title: title.chars().take(100).collect(), content }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn identity_numbers_and_phones_pass_the_domain_checks() {
        let mut rng = Prng::seed_from_u64(7);
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        for _ in 0..2000 {
            let id = citizen_id(&mut rng, "120104", today);
            fazhi_domain::identity::CitizenId::parse("id", &id).unwrap();
            fazhi_domain::identity::Phone::parse("phone", &mobile(&mut rng)).unwrap();
        }
    }

    #[test]
    fn letters_are_deterministic_and_bounded() {
        let a: Vec<_> = (0..200)
            .scan(Prng::seed_from_u64(1), |r, _| Some(letter(r, "万兴里")))
            .map(|l| (l.title, l.content))
            .collect();
        let b: Vec<_> = (0..200)
            .scan(Prng::seed_from_u64(1), |r, _| Some(letter(r, "万兴里")))
            .map(|l| (l.title, l.content))
            .collect();
        assert_eq!(a, b);
        for (t, c) in &a {
            let n = c.chars().count();
            assert!((20..=2000).contains(&n), "{n}: {c}");
            assert!(!t.is_empty() && t.chars().count() <= 100);
        }
    }
}
