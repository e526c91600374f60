"""The demo city 滨江市: departments, users, citizens and tickets walked through
the real lifecycle (``cases.actions.do_*`` with ``now=``), so every state, urge,
extension and supervision appears with a full timeline.

``build_demo(tickets=400, now=..., progress=...)`` does it all; ``hotline demo``
is its thin command. Randomness is seeded: the same arguments give the same city.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotline.accounts.actions import do_create_user
from hotline.accounts.models import Role, User
from hotline.cases import actions as A
from hotline.cases.deadlines import run_deadline_job
from hotline.cases.models import Status, Ticket
from hotline.directory.models import Citizen, Department, DepartmentKind, District

CITY_CODE = "binjiang"
CENTER_CODE = "binjiang-12345"
DEMO_STREET = "dc-donghua"
DEMO_BUREAU = "bj-water"

# --- the city -------------------------------------------------------------------------

# district code, name, roads, [(street code, street name, [community names])]
DISTRICTS: list[tuple[str, str, list[str], list[tuple[str, str, list[str]]]]] = [
    ("dongcheng", "东城区", ["东华路", "解放大街", "朝阳路", "人民路", "和平里"], [
        ("dc-donghua", "东华街道", ["东华社区", "朝阳里社区"]),
        ("dc-jianguo", "建国街道", ["建国门社区", "光明社区"]),
        ("dc-chunshu", "椿树街道", ["椿树社区"]),
    ]),
    ("xicheng", "西城区", ["西环路", "长安街", "文昌路", "金融街", "西湖路"], [
        ("xc-xinjie", "新街口街道", ["新街口社区", "玉桃园社区"]),
        ("xc-yuetan", "月坛街道", ["月坛社区", "白云观社区"]),
        ("xc-guangan", "广安门街道", ["广安社区"]),
    ]),
    ("nanhu", "南湖区", ["南湖大道", "滨湖路", "湖心路", "望湖街", "渔港路"], [
        ("nh-binhu", "滨湖街道", ["滨湖社区", "望湖社区"]),
        ("nh-yugang", "渔港镇", ["渔港村", "南湾村"]),
    ]),
    ("beishan", "北山区", ["北山路", "矿区路", "青松街", "龙泉大道", "石门路"], [
        ("bs-longquan", "龙泉街道", ["龙泉社区", "青松社区"]),
        ("bs-shimen", "石门镇", ["石门村", "上坪村"]),
        ("bs-kuangqu", "矿区街道", ["矿区社区"]),
    ]),
    ("gaoxin", "高新区", ["科技大道", "创新路", "软件园路", "光谷街", "高新一路"], [
        ("gx-keji", "科技城街道", ["科技城社区", "创业社区"]),
        ("gx-guanggu", "光谷街道", ["光谷社区", "锦绣社区"]),
    ]),
]

ESTATES = ["阳光花园", "锦绣家园", "翠湖苑", "金色家园", "幸福小区", "和平新村", "滨江一号", "康乐小区",
           "紫荆园", "御景湾", "碧水云天", "书香门第", "绿城百合", "时代广场", "铁路宿舍", "教师公寓"]

# code, name, kind, duty, phone
BUREAUS: list[tuple[str, str, str, str, str]] = [
    ("bj-water", "市水务局", DepartmentKind.BUREAU, "城市供水、排水、节水管理，水质监测，供水管网抢修", "0571-86001234"),
    ("bj-power", "市供电公司", DepartmentKind.ENTERPRISE, "城乡电网运行维护，停电抢修，电费计量与收费", "95598"),
    ("bj-gas", "市燃气集团", DepartmentKind.ENTERPRISE, "管道燃气供应，燃气设施安全检查与抢修，燃气收费", "0571-86005678"),
    ("bj-heat", "市热力公司", DepartmentKind.ENTERPRISE, "集中供热运行，室温检测，供热管网维修，采暖费收缴", "0571-86009876"),
    ("bj-housing", "市住建局", DepartmentKind.BUREAU, "房地产市场监管，物业管理监督，建筑工程质量安全，住房保障", "0571-86011122"),
    ("bj-chengguan", "市城管局", DepartmentKind.BUREAU, "市容环境卫生，城市管理综合执法，违法建设查处，户外广告管理", "12319"),
    ("bj-env", "市生态环境局", DepartmentKind.BUREAU, "大气、水、噪声、固体废物污染防治与执法监测", "12369"),
    ("bj-planning", "市自然资源和规划局", DepartmentKind.BUREAU, "国土空间规划，规划许可，不动产登记，土地征收", "0571-86023344"),
    ("bj-garden", "市园林局", DepartmentKind.BUREAU, "城市绿化建设与养护，公园管理，古树名木保护", "0571-86035566"),
    ("bj-hrss", "市人社局", DepartmentKind.BUREAU, "就业创业，社会保险，劳动关系与劳动保障监察（欠薪）", "12333"),
    ("bj-medical", "市医保局", DepartmentKind.BUREAU, "基本医疗保险参保、待遇与报销，医保定点机构监管", "0571-86047788"),
    ("bj-edu", "市教育局", DepartmentKind.BUREAU, "各级各类教育管理，招生入学政策，校外培训监管，教育收费", "0571-86059900"),
    ("bj-health", "市卫健委", DepartmentKind.BUREAU, "医疗服务监管，公共卫生，疫苗接种，医患纠纷调处", "0571-86061212"),
    ("bj-transport", "市交通运输局", DepartmentKind.BUREAU, "公交线网规划，出租车与网约车管理，道路运输", "0571-86073434"),
    ("bj-police", "市公安局", DepartmentKind.BUREAU, "社会治安，交通管理（信号灯、违停），户籍与出入境", "110"),
    ("bj-market", "市市场监管局", DepartmentKind.BUREAU, "市场主体登记，食品安全，价格监督，消费者权益保护", "12315"),
]

# --- what citizens call about -------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    category: str
    service_type: str
    #: "street" (the street of the address) or a bureau code
    department: str
    summary: str
    content: str
    result: str
    #: An answer the call-taker can give at once (consultations): resolvable on the spot.
    answer: str = ""


T = Template
TEMPLATES: list[Template] = [
    T("water.outage", "complaint", "bj-water", "{estate}停水{n}天未恢复",
      "来电人反映{addr}{estate}自{days}前开始停水，物业称是市政管网问题，至今未恢复供水也未收到停水通知，家中有老人，生活十分不便，要求尽快恢复供水并说明原因。",
      "经核查，因{road}供水主管道爆裂抢修导致停水，已于次日18时恢复供水。已要求供水所今后计划停水提前24小时在小区公告。已电话告知来电人。"),
    T("water.quality", "complaint", "bj-water", "{estate}自来水发黄有异味",
      "来电人反映{addr}{estate}近一周自来水发黄，烧开后有沉淀和异味，怀疑二次供水水箱长期未清洗，要求检测水质。",
      "供水公司已对该小区二次供水设施取样检测，浊度偏高，已督促物业清洗消毒水箱并复检合格。"),
    T("water.pressure", "complaint", "bj-water", "高层住户水压不足",
      "来电人反映{addr}{estate}12楼以上住户早晚用水高峰期水压不足，热水器无法启动，已持续一个月。",
      "经现场测压，小区加压泵组一台故障，已协调物业更换水泵，水压恢复正常。"),
    T("water.pipe", "report", "bj-water", "{road}路面冒水疑似管道漏水",
      "来电人反映{addr}附近路面持续冒水，已形成积水，疑似地下供水管道破裂，存在安全隐患。",
      "抢修队已到场开挖，更换破损管段，路面已恢复。"),
    T("power.outage", "complaint", "bj-power", "{estate}频繁停电",
      "来电人反映{addr}{estate}本月已停电4次，每次数小时，未提前通知，家中冰箱食物变质，要求查明原因。",
      "经查为小区配电变压器过载跳闸，供电公司已增容改造，并承诺计划停电提前公告。"),
    T("power.billing", "consult", "bj-power", "咨询阶梯电价计费",
      "来电人咨询家中电费较上月明显增加，想了解居民阶梯电价如何计算、如何查询用电明细。",
      "已向来电人解释阶梯电价分档标准，并告知可通过网上国网APP查询每日用电量。",
      answer="已告知来电人：居民用电按年度阶梯计价，第一档年用电量2760度以内0.538元/度，可在“网上国网”APP查询明细。"),
    T("gas.leak", "report", "bj-gas", "楼道内有燃气异味",
      "来电人反映{addr}{estate}3单元楼道内有明显燃气味，已持续半天，担心发生危险，请求尽快派人检查。",
      "燃气抢修人员30分钟内到场，查明为一户立管接口松动，已紧固并检测无泄漏。"),
    T("gas.billing", "complaint", "bj-gas", "燃气表计量异常费用过高",
      "来电人反映{addr}家中近两月燃气费比往年同期高出一倍，怀疑燃气表计量不准，要求校验。",
      "已上门拆表送检，计量误差在允许范围内，已向来电人出示检定报告并解释冬季用气量增加原因。"),
    T("heating.cold", "complaint", "bj-heat", "供暖期室温不达标",
      "来电人反映{addr}{estate}供暖以来室内温度仅14度左右，低于18度标准，家中有婴儿，要求解决。",
      "热力公司已上门测温16.5度，对楼内管道排气并调整入户阀门，复测19度，来电人认可。"),
    T("municipal.light", "report", "street", "{road}路灯不亮",
      "来电人反映{addr}{road}一段约200米路灯连续多日夜间不亮，行人夜间通行存在安全隐患。",
      "街道已联系路灯管理所维修，更换控制箱保险及损坏灯具8盏，已恢复照明。"),
    T("municipal.road", "report", "street", "{road}路面塌陷坑洼",
      "来电人反映{addr}{road}路段出现多处坑洼，雨天积水，电动车经过易摔倒，要求尽快修补。",
      "已安排市政养护单位对坑洼路面进行沥青修补，共修补约35平方米。"),
    T("municipal.drain", "report", "street", "{road}井盖缺失",
      "来电人反映{addr}{road}人行道上有一处窨井盖缺失，仅用树枝遮挡，极易造成行人跌落，要求立即处理。",
      "接报后2小时内设置围挡，次日已补装防坠井盖。"),
    T("enforcement.stall", "complaint", "street", "{road}占道经营堵塞交通",
      "来电人反映{addr}{road}菜市场门口每天早晚有大量流动摊贩占道经营，堵塞交通，垃圾遍地，要求整治。",
      "街道综合执法队已开展集中整治，劝离流动摊贩，引导进入便民市场经营，并安排每日早晚巡查。"),
    T("enforcement.building", "report", "street", "{estate}顶楼搭建违章建筑",
      "来电人举报{addr}{estate}顶楼住户在楼顶违法搭建彩钢板房，影响楼体安全和其他住户权益。",
      "经现场核查属实，已下达限期拆除通知书，当事人已于期限内自行拆除。"),
    T("enforcement.noise", "complaint", "street", "工地夜间施工噪音扰民",
      "来电人反映{addr}附近在建工地连续多日夜间22点后仍在施工，噪音巨大，严重影响休息，要求查处。",
      "执法人员夜间巡查发现施工单位无夜间施工许可，已责令停止夜间施工并立案处罚。"),
    T("environment.noise", "complaint", "street", "楼下商铺音响噪声扰民",
      "来电人反映{addr}{estate}楼下商铺每天用高音喇叭促销，从早到晚循环播放，噪声扰民。",
      "街道联合派出所上门劝导，商铺已撤除外放音响并承诺不再使用。"),
    T("environment.air", "report", "bj-env", "工厂夜间排放刺鼻废气",
      "来电人反映{addr}附近一家工厂夜间排放刺鼻气味废气，周边居民开窗即闻到，怀疑偷排，要求检查。",
      "生态环境执法人员夜间突击检查，该企业废气处理设施未正常运行，已责令整改并立案调查。"),
    T("environment.water", "report", "bj-env", "河道发黑发臭疑有排污",
      "来电人反映{addr}附近河道近期水体发黑发臭，岸边有一排污口持续排放污水。",
      "经溯源排查为沿河餐饮店私接雨水管排污，已责令整改截污纳管，河道已开展清淤。"),
    T("sanitation.garbage", "complaint", "street", "{estate}垃圾清运不及时",
      "来电人反映{addr}{estate}垃圾桶满溢多日无人清运，气味难闻，蚊蝇滋生。",
      "已督促环卫公司增加清运频次为每日两次，并对垃圾收集点进行冲洗消毒。"),
    T("landscape.tree", "help", "bj-garden", "行道树遮挡窗户请求修剪",
      "来电人反映{addr}{road}行道树枝叶已伸到三楼窗户，遮挡采光，台风季担心断枝砸伤人，请求修剪。",
      "园林养护队已对该路段行道树进行修剪，清理枯枝。"),
    T("landscape.park", "suggest", "bj-garden", "建议公园增设健身器材",
      "来电人建议在{addr}附近的社区公园增设老年人健身器材和休息座椅，方便周边老人锻炼。",
      "已纳入今年公园提升计划，预计下季度安装健身器材10件、座椅6组。"),
    T("property.fee", "complaint", "bj-housing", "物业乱收费",
      "来电人反映{addr}{estate}物业公司在未经业主大会同意的情况下上调物业费，并收取电梯使用费、停车管理费等，要求查处。",
      "经住建部门调查，物业公司调价程序不合规，已责令暂停执行新标准，多收费用予以退还。"),
    T("property.elevator", "complaint", "street", "小区电梯频繁故障困人",
      "来电人反映{addr}{estate}5号楼电梯一个月内三次故障，昨天有老人被困半小时，物业维修不及时，要求彻查。",
      "街道联合市场监管部门约谈物业和维保单位，已更换电梯门机和控制板，并加密维保频次。"),
    T("property.service", "complaint", "street", "物业服务差不作为",
      "来电人反映{addr}{estate}物业长期不打扫楼道，门禁损坏不修，保安形同虚设，业主多次反映无果。",
      "街道组织物业、社区和业主代表召开协调会，物业已整改保洁和门禁，社区将定期督查。"),
    T("social.wage", "help", "bj-hrss", "工地拖欠农民工工资",
      "来电人反映其在{addr}某建筑工地务工，包工头拖欠本人及20余名工友3个月工资共计约40万元，多次讨要无果。",
      "劳动保障监察大队已约谈总包单位，从农民工工资保证金中垫付，欠薪已全部发放到位。"),
    T("social.pension", "consult", "bj-hrss", "咨询灵活就业人员养老保险缴费",
      "来电人咨询灵活就业人员如何缴纳养老保险，缴费基数和缴费年限有什么要求。",
      "已告知灵活就业人员可在社保服务大厅或网上办理参保，缴费基数可在60%-300%之间自选。",
      answer="已告知：灵活就业人员可通过浙里办/社保网厅参保，缴费基数在全省平均工资60%-300%之间自选，累计缴费满15年可按月领取养老金。"),
    T("social.medical", "consult", "bj-medical", "咨询异地就医医保报销",
      "来电人咨询父母在外省长期居住，看病住院如何办理异地就医备案和医保报销。",
      "已告知异地就医备案办理渠道及报销比例。",
      answer="已告知：可通过国家医保服务平台APP办理异地长期居住备案，备案后在就医地定点医院直接结算，报销比例按参保地政策执行。"),
    T("education.enroll", "consult", "bj-edu", "咨询小学入学划片政策",
      "来电人咨询孩子明年上小学，租房居住能否在{district}入学，划片学校如何查询，需要准备哪些材料。",
      "已告知随迁子女入学积分政策和所需材料。",
      answer="已告知：{district}实行学区划片，租房家庭可凭居住证和社保缴纳证明申请积分入学，划片范围在每年4月由区教育局公布。"),
    T("education.training", "report", "bj-edu", "校外培训机构违规收费",
      "来电人举报{addr}一家校外培训机构一次性收取超过3个月的学费，且在工作日晚间开展学科类培训。",
      "教育局联合市场监管局检查，该机构无证开展学科类培训，已责令停止并督促退费。"),
    T("health.food", "complaint", "bj-market", "餐馆食品卫生问题",
      "来电人反映在{addr}一家餐馆就餐后出现腹泻，店内后厨卫生条件差，要求查处。",
      "市场监管所检查发现后厨生熟不分、部分员工无健康证，已责令整改并处罚款。"),
    T("health.hospital", "complaint", "bj-health", "医院挂号难排队时间长",
      "来电人反映市第一人民医院儿科周末只开两个诊室，排队挂号需要4小时以上，要求增加医生。",
      "卫健委已督促医院周末增开儿科诊室2个，并推行分时段预约。"),
    T("transport.bus", "suggest", "bj-transport", "建议增开公交线路",
      "来电人建议开通从{district}{road}到市中心的公交线路，目前需要换乘两次，通勤时间超过1小时。",
      "交通运输局已开展客流调查，计划下月调整12路公交线路延伸至该区域。"),
    T("transport.parking", "complaint", "bj-police", "{road}车辆乱停堵塞消防通道",
      "来电人反映{addr}{estate}门口消防通道长期被私家车占用，存在严重安全隐患。",
      "交警大队已对违停车辆贴单处罚，并协调物业施划禁停标线、设置隔离桩。"),
    T("transport.signal", "suggest", "bj-police", "路口红绿灯时间设置不合理",
      "来电人反映{road}与解放大街路口行人绿灯时间仅15秒，老人无法一次通过，建议延长。",
      "交警部门已将该路口行人绿灯时间调整为30秒。"),
    T("other.misc", "praise", "street", "表扬社区工作人员",
      "来电人表扬{addr}社区工作人员在其家中老人突发疾病时及时帮助送医，希望给予表彰。",
      "已将表扬转达社区，并通报表扬相关工作人员。"),
]

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "玉兰", "国庆", "晓东", "春梅", "文博", "子涵", "浩然"]
PHONE_PREFIXES = ["138", "139", "137", "136", "135", "158", "159", "188", "187", "152", "150", "186", "185", "133", "189", "177"]

RETURN_REASONS = [
    "该事项不属于本单位职责范围，建议转{other}办理。",
    "经核实，诉求地址不在本辖区，请重新派单。",
]

USER_SPECS: list[tuple[str, Role, str | None, str]] = [
    # username, role, department code, display name
    ("calltaker", Role.CALL_TAKER, None, "李晓梅（话务员）"),
    ("teamleader", Role.TEAM_LEADER, None, "王建国（班长）"),
    ("dispatcher", Role.DISPATCHER, None, "赵丽（派单员）"),
    ("street_handler", Role.DEPT_HANDLER, DEMO_STREET, "周强（东华街道承办人）"),
    ("street_manager", Role.DEPT_MANAGER, DEMO_STREET, "陈海燕（东华街道负责人）"),
    ("water_handler", Role.DEPT_HANDLER, DEMO_BUREAU, "孙磊（市水务局承办人）"),
    ("water_manager", Role.DEPT_MANAGER, DEMO_BUREAU, "吴志强（市水务局负责人）"),
    ("supervisor", Role.SUPERVISOR, None, "郑国庆（督办员）"),
    ("inspector", Role.QUALITY_INSPECTOR, None, "刘静（质检员）"),
    ("statistician", Role.STATISTICIAN, None, "黄文博（统计员）"),
    ("admin", Role.ADMIN, None, "系统管理员"),
    ("auditor", Role.AUDITOR, None, "许春梅（审计员）"),
]

# Scenario -> weight. The first tickets take one of each, so even a small demo shows
# every state; the rest are drawn by weight.
SCENARIOS: dict[str, int] = {
    "closed": 30, "handling": 10, "resolved_closed": 8, "dispatched": 6, "replied": 5, "signed": 4,
    "reviewed": 4, "resolved": 4, "called_back": 3, "merged": 3, "reopened_closed": 3, "registered": 3,
    "return_requested": 2, "returned": 2, "reopened_handling": 2, "closed_dissatisfied": 2, "voided": 2,
    "not_accepted": 2, "draft": 2,
}
#: How long ago a scenario's ticket typically arrived (days): finished cases are older.
AGE_DAYS: dict[str, tuple[float, float]] = {
    "draft": (0.0, 0.3), "registered": (0.0, 1.0), "resolved": (0.1, 3), "dispatched": (0.1, 4),
    "return_requested": (0.5, 6), "returned": (0.5, 6), "signed": (0.5, 8), "handling": (1, 30),
    "replied": (1, 20), "reviewed": (2, 25), "called_back": (3, 30), "reopened_handling": (8, 40),
    "merged": (0.5, 30), "voided": (0.5, 50), "not_accepted": (0.5, 50),
}
DEFAULT_AGE = (5.0, 60.0)


class DemoExists(Exception):
    pass


def demo_present() -> bool:
    return Department.objects.filter(code=CITY_CODE).exists()


# --- building blocks ------------------------------------------------------------------------


def _department(code: str, name: str, kind: str, parent: Department | None, **extra: Any) -> Department:
    dept = Department.objects.create(code=code, name=name, kind=kind, parent=parent, **extra)
    dept.compute_path()
    dept.save(update_fields=["path", "depth"])
    return dept


def _password(rng: random.SystemRandom) -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(10)) + rng.choice("23456789") + rng.choice("abcdefghjkmnpqrstuvwxyz")


@dataclass
class City:
    center: Department
    districts: dict[str, Department] = field(default_factory=dict)
    streets: dict[str, list[Department]] = field(default_factory=dict)  # district code -> streets
    bureaus: dict[str, Department] = field(default_factory=dict)
    roads: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    #: department code -> the user who signs and replies for it (its 联络员)
    liaisons: dict[str, User] = field(default_factory=dict)
    passwords: list[tuple[str, str, str, str]] = field(default_factory=list)  # username, password, role, dept


def build_city() -> City:
    city_dept = _department(CITY_CODE, "滨江市人民政府", DepartmentKind.CITY, None, can_handle=False, phone="0571-12345")
    center = _department(CENTER_CODE, "滨江市12345政务服务便民热线中心", DepartmentKind.CENTER, city_dept, can_handle=False,
                         duty="受理市民诉求，派单、督办、回访和考核", phone="12345")
    city = City(center=center)
    for sort, (code, name, roads, streets) in enumerate(DISTRICTS):
        d = _department(code, f"{name}人民政府", DepartmentKind.DISTRICT, city_dept, sort=sort,
                        duty=f"{name}辖区内各类诉求的统筹办理", phone=f"0571-8{sort + 1}12345")
        District.objects.update_or_create(code=code, defaults={"name": name, "sort": sort, "department": d})
        city.districts[code], city.roads[code], city.streets[code] = d, roads, []
        for s_sort, (s_code, s_name, communities) in enumerate(streets):
            office = "人民政府" if s_name.endswith("镇") else "办事处"
            s = _department(s_code, f"{s_name}{office}", DepartmentKind.STREET, d, sort=s_sort,
                            duty=f"{s_name}辖区市容、物业、民生事项办理", phone=f"0571-8{sort + 1}6{s_sort}0000")
            city.streets[code].append(s)
            for c_sort, c_name in enumerate(communities):
                kind = "村民委员会" if c_name.endswith("村") else "居民委员会"
                _department(f"{s_code}-c{c_sort + 1}", f"{c_name}{kind}", DepartmentKind.COMMUNITY, s, sort=c_sort)
    for sort, (code, name, kind, duty, phone) in enumerate(BUREAUS):
        city.bureaus[code] = _department(code, name, kind, city_dept, sort=100 + sort, duty=duty, phone=phone)
    return city


def create_users(city: City, now: dt.datetime) -> None:
    rng = random.SystemRandom()
    for username, role, dept_code, display in USER_SPECS:
        password = _password(rng)
        user = do_create_user(None, {"username": username, "role": int(role), "department": dept_code, "display_name": display}, password, now=now)
        city.users[username] = user
        city.passwords.append((username, password, str(role.label), user.department.name if user.department else city.center.name))
    city.liaisons[DEMO_STREET] = city.users["street_handler"]
    city.liaisons[DEMO_BUREAU] = city.users["water_handler"]
    # Every other handling department gets one liaison account, so tickets can go anywhere.
    for dept in [*city.districts.values(), *city.bureaus.values()]:
        if dept.code in city.liaisons:
            continue
        password = _password(rng)
        user = do_create_user(None, {"username": f"lx_{dept.code.replace('-', '_')}", "role": int(Role.DEPT_HANDLER),
                                     "department": dept.code, "display_name": f"{dept.name}联络员"}, password, now=now)
        city.liaisons[dept.code] = user
        city.passwords.append((user.username, password, str(Role.DEPT_HANDLER.label), dept.name))


def create_citizens(rng: random.Random, count: int) -> list[Citizen]:
    people: list[Citizen] = []
    seen: set[str] = set()
    while len(people) < count:
        phone = rng.choice(PHONE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        if phone in seen:
            continue
        seen.add(phone)
        people.append(Citizen(name=rng.choice(SURNAMES) + rng.choice(GIVEN), phone=phone))
    for c in people[:6]:
        c.tags = ["VIP", "人大代表"] if c is people[0] else ["VIP"]
    people[6].tags = ["老年人", "独居"]
    people[7].tags = ["残疾人"]
    blacklisted = people[-1]
    blacklisted.blacklisted = True
    blacklisted.blacklist_reason = "多次拨打热线辱骂话务员，经班长审批列入黑名单"
    Citizen.objects.bulk_create(people)
    return list(Citizen.objects.filter(phone__in=[c.phone for c in people]).order_by("pk"))


# --- walking tickets through the lifecycle --------------------------------------------------------


class Clock:
    """Successive plausible moments for one ticket's timeline, never past ``now``."""

    def __init__(self, start: dt.datetime, now: dt.datetime, rng: random.Random) -> None:
        self.t, self.now, self.rng = start, now, rng

    def after(self, lo_hours: float, hi_hours: float) -> dt.datetime:
        t = self.t + dt.timedelta(hours=self.rng.uniform(lo_hours, hi_hours))
        local = timezone.localtime(t)
        if local.hour < 8:
            t += dt.timedelta(hours=8 - local.hour)
        elif local.hour >= 21:
            t += dt.timedelta(hours=24 - local.hour + 8)
        cap = self.now - dt.timedelta(minutes=1)
        if t > cap:
            t = self.t + (cap - self.t) / 2 if cap > self.t else self.t + dt.timedelta(seconds=1)
        self.t = t
        return t


class Walker:
    def __init__(self, city: City, citizens: list[Citizen], rng: random.Random, now: dt.datetime) -> None:
        self.city, self.citizens, self.rng, self.now = city, citizens, rng, now
        self.u = city.users
        self.counters: dict[str, int] = {}
        self.mergeable: list[int] = []

    # -- pieces ----------------------------------------------------------------

    def _fill(self, text: str, ctx: dict[str, str]) -> str:
        return text.format(**ctx)

    def _context(self, district_code: str | None = None) -> tuple[str, dict[str, str]]:
        district_code = district_code or self.rng.choice(list(self.city.districts))
        road = self.rng.choice(self.city.roads[district_code])
        district_name = self.city.districts[district_code].name.replace("人民政府", "")
        estate = self.rng.choice(ESTATES)
        addr = f"{district_name}{road}{self.rng.randint(1, 399)}号"
        days = self.rng.choice(["前天", "三天前", "上周五", "昨天上午"])
        return district_code, {"addr": addr, "road": road, "estate": estate, "district": district_name, "days": days,
                               "n": str(self.rng.randint(2, 4))}

    def _lead_for(self, tpl: Template, district_code: str) -> Department:
        if tpl.department == "street":
            streets = self.city.streets[district_code]
            # The demo street is where the demo accounts work: give it a fair share.
            if district_code == "dongcheng" or self.rng.random() < 0.3:
                return next(s for s in self.city.streets["dongcheng"] if s.code == DEMO_STREET)
            return self.rng.choice(streets)
        return self.city.bureaus[tpl.department]

    def handler_for(self, dept: Department) -> User:
        if dept.code in self.city.liaisons:
            return self.city.liaisons[dept.code]
        assert dept.parent is not None
        return self.handler_for(Department.objects.get(pk=dept.parent_id))

    def _manager_for(self, dept: Department) -> User | None:
        return {DEMO_STREET: self.u.get("street_manager"), DEMO_BUREAU: self.u.get("water_manager")}.get(dept.code)

    def _variant(self, scenario: str) -> int:
        n = self.counters.get(scenario, 0)
        self.counters[scenario] = n + 1
        return n

    def create(self, clock: Clock, *, consult: bool = False, register: bool = True, citizen: Citizen | None = None,
               at_demo_department: bool = False) -> tuple[Ticket, Template, Department]:
        pool = [t for t in TEMPLATES if t.answer] if consult else TEMPLATES
        if at_demo_department:
            pool = [t for t in TEMPLATES if t.department in ("street", DEMO_BUREAU)]
        tpl = self.rng.choice(pool)
        district_code, ctx = self._context("dongcheng" if at_demo_department and tpl.department == "street" else None)
        who = citizen or self.rng.choice(self.citizens[:-1])
        source = self.rng.choices(["phone", "web", "wechat", "sms", "mayor_mail", "voicemail"], [70, 10, 10, 3, 4, 3])[0]
        urgency = "urgent" if tpl.category in ("gas.leak", "municipal.drain", "water.pipe") else self.rng.choices(["normal", "urgent"], [92, 8])[0]
        data = {
            "citizen_name": who.name, "contact_phone": who.phone, "source": source, "service_type": tpl.service_type,
            "category": tpl.category, "district": district_code, "address": ctx["addr"],
            "summary": self._fill(tpl.summary, ctx)[:200], "content": self._fill(tpl.content, ctx), "urgency": urgency,
            "confidential": tpl.service_type == "report" and self.rng.random() < 0.3,
        }
        ticket = A.do_create_ticket(self.u["calltaker"], data, register=register, now=clock.t)
        ticket._demo_ctx = ctx  # type: ignore[attr-defined]
        return ticket, tpl, self._lead_for(tpl, district_code)

    def dispatch(self, ticket: Ticket, lead: Department, clock: Clock, *, assists: bool = False) -> None:
        assisting = []
        if assists:
            assisting = [self.rng.choice([b for b in self.city.bureaus.values() if b.pk != lead.pk])]
        A.do_dispatch(ticket.pk, self.u["dispatcher"], lead.pk, [d.pk for d in assisting],
                      comment="请按职责办理并按时回复。", now=clock.after(0.1, 2))
        if assisting:
            helper = self.handler_for(assisting[0])
            A.do_assist_opinion(ticket.pk, helper, "我单位已派员配合现场核查，将按职责做好协办工作。", now=clock.after(2, 20))

    def sign(self, ticket: Ticket, lead: Department, clock: Clock, *, assign: bool = False, stay_signed: bool = False) -> None:
        """Sign for; a manager who signs may assign a handler at once (which starts the
        handling), except when the scenario must end signed for (签收)."""
        manager = self._manager_for(lead)
        if manager is not None and (assign or self.rng.random() < 0.5):
            A.do_sign_for(ticket.pk, manager, now=clock.after(0.5, 6))
            if stay_signed:
                return
            handler = self.handler_for(lead)
            A.do_assign(ticket.pk, manager, handler.pk, comment="请尽快现场核实处理。", now=clock.after(0.2, 3))
        else:
            A.do_sign_for(ticket.pk, self.handler_for(lead), now=clock.after(0.5, 10))

    def reply(self, ticket: Ticket, tpl: Template, lead: Department, clock: Clock, *, hours: tuple[float, float] = (20, 150)) -> None:
        result = self._fill(tpl.result, ticket._demo_ctx)  # type: ignore[attr-defined]
        A.do_reply(ticket.pk, self.handler_for(lead), result, now=clock.after(*hours))

    def approve(self, ticket: Ticket, clock: Clock) -> None:
        who = self.u["inspector"] if self.rng.random() < 0.3 else self.u["dispatcher"]
        A.do_approve_reply(ticket.pk, who, comment="办理结果清楚，同意办结。", now=clock.after(1, 20))

    def callback(self, ticket: Ticket, clock: Clock, satisfaction: str | None = None) -> str:
        sat = satisfaction or self.rng.choices(["satisfied", "basically", "unreachable"], [75, 21, 4])[0]
        comment = {"satisfied": "市民对办理结果表示满意。", "basically": "市民表示问题基本解决，希望加强日常管理。",
                   "unreachable": "三次回访均无人接听。", "dissatisfied": "市民表示问题未解决，对答复不认可。"}[sat]
        A.do_callback(ticket.pk, self.u["calltaker"], sat, comment=comment, now=clock.after(2, 30))
        return sat

    def close(self, ticket: Ticket, clock: Clock, comment: str = "") -> None:
        A.do_close(ticket.pk, self.u["teamleader"], comment=comment, now=clock.after(0.5, 24))

    def to_department(self, ticket: Ticket, lead: Department, clock: Clock, variant: int) -> None:
        self.dispatch(ticket, lead, clock, assists=(variant % 6 == 1))
        self.sign(ticket, lead, clock)

    # -- scenarios --------------------------------------------------------------------

    def run(self, scenario: str, start: dt.datetime) -> Ticket:
        clock = Clock(start, self.now, self.rng)
        v = self._variant(scenario)
        s = scenario
        if s == "draft":
            return self.create(clock, register=False)[0]
        if s in ("resolved", "resolved_closed"):
            ticket, tpl, _ = self.create(clock, consult=True, register=False)
            A.do_resolve_on_spot(ticket.pk, self.u["calltaker"], self._fill(tpl.answer, ticket._demo_ctx), now=clock.after(0.05, 0.2))  # type: ignore[attr-defined]
            if s == "resolved_closed":
                self.callback(ticket, clock)
                self.close(ticket, clock)
            return ticket
        if s == "not_accepted":
            blacklisted = self.citizens[-1] if v == 0 else None
            ticket = self.create(clock, citizen=blacklisted)[0]
            reason = ("来电人反映事项属于司法诉讼程序，依法不予受理，已告知通过法律途径解决。" if v % 2
                      else "诉求内容属于民事纠纷，已在法院审理中，按规定不予受理。")
            A.do_not_accept(ticket.pk, self.u["calltaker"], reason, now=clock.after(0.05, 0.5))
            return ticket
        if s == "voided":
            ticket = self.create(clock)[0]
            A.do_void(ticket.pk, self.u["teamleader"], "话务员重复登记，作废。", now=clock.after(0.1, 2))
            return ticket
        if s == "merged":
            original = Ticket.objects.filter(pk__in=self.mergeable[-40:]).order_by("?").first() if self.mergeable else None
            ticket, tpl, lead = self.create(clock)
            if original is not None:
                A.do_merge(ticket.pk, self.u["calltaker"], original.pk, comment=f"与工单{original.number}诉求相同，合并处理。",
                           now=clock.after(0.05, 1))
            return ticket
        ticket, tpl, lead = self.create(clock, at_demo_department=(s == "handling"))
        if s == "registered":
            return ticket
        if s == "returned" or s == "return_requested":
            wrong = self.rng.choice([b for b in self.city.bureaus.values() if b.code != tpl.department])
            self.dispatch(ticket, wrong, clock)
            other = lead.name
            A.do_request_return(ticket.pk, self.handler_for(wrong), self.rng.choice(RETURN_REASONS).format(other=other), now=clock.after(1, 20))
            if s == "returned":
                A.do_accept_return(ticket.pk, self.u["dispatcher"], comment="同意退回，重新派单。", now=clock.after(0.5, 8))
            return ticket
        self.dispatch(ticket, lead, clock, assists=(v % 6 == 1))
        if s == "dispatched":
            return ticket
        self.sign(ticket, lead, clock, assign=(s == "handling"), stay_signed=(s == "signed"))
        if s == "signed":
            return ticket
        if s == "handling":
            self._handling_extras(ticket, lead, clock, v)
            return ticket
        if s == "closed" and v % 5 == 2:
            # A refused return request on the way.
            A.do_request_return(ticket.pk, self.handler_for(lead), "该事项应由区级部门办理。", now=clock.after(1, 10))
            A.do_refuse_return(ticket.pk, self.u["dispatcher"], "经核实属于贵单位职责，请继续办理。", now=clock.after(0.5, 5))
        if s == "closed" and v % 5 == 3:
            self._extension(ticket, lead, clock, approve=True)
        if s == "closed" and v % 5 == 0:
            A.do_supervise(ticket.pk, self.u["supervisor"], "群众反映强烈，请高度重视，限期办结。", now=clock.after(2, 24))
            A.do_answer_supervision(ticket.pk, self.handler_for(lead), "已成立专班，正在加快处理。", now=clock.after(2, 24))
        self.reply(ticket, tpl, lead, clock)
        if s == "replied":
            return ticket
        if s == "closed" and v % 5 == 1:
            A.do_send_back(ticket.pk, self.u["inspector"], "回复内容未说明具体整改措施和时间，请补充后重新回复。", now=clock.after(1, 10))
            self.reply(ticket, tpl, lead, clock, hours=(5, 48))
        self.approve(ticket, clock)
        if s == "reviewed":
            return ticket
        if s in ("reopened_handling", "reopened_closed", "closed_dissatisfied"):
            self.callback(ticket, clock, "dissatisfied")
            if s == "closed_dissatisfied":
                self.close(ticket, clock, "经核实部门已按政策答复到位，市民诉求超出政策范围，作不满意办结。")
                self.mergeable.append(ticket.pk)
                return ticket
            A.do_reopen(ticket.pk, self.u["teamleader"], "回访不满意，问题未实际解决，重新交办。", now=clock.after(0.5, 8))
            if s == "reopened_handling":
                return ticket
            self.reply(ticket, tpl, lead, clock, hours=(10, 80))
            self.approve(ticket, clock)
            self.callback(ticket, clock, "satisfied")
            self.close(ticket, clock)
            self.mergeable.append(ticket.pk)
            return ticket
        self.callback(ticket, clock)
        if s == "called_back":
            return ticket
        if s == "closed" and v % 5 == 0:
            A.do_close_supervision(ticket.pk, self.u["supervisor"], comment="已办结，督办结束。", now=clock.after(0.1, 3))
        self.close(ticket, clock)
        self.mergeable.append(ticket.pk)
        return ticket

    def _extension(self, ticket: Ticket, lead: Department, clock: Clock, *, approve: bool | None) -> None:
        ticket.refresh_from_db(fields=["deadline"])
        assert ticket.deadline is not None
        new_date = timezone.localtime(ticket.deadline).date() + dt.timedelta(days=self.rng.randint(7, 20))
        A.do_request_extension(ticket.pk, self.handler_for(lead), new_date, "涉及多个部门协调及施工，需延期办理。", now=clock.after(1, 24))
        if approve is not None:
            A.do_decide_extension(ticket.pk, self.u["dispatcher"], approve,
                                  comment="同意延期。" if approve else "该事项不复杂，请按原时限办结。", now=clock.after(0.5, 8))

    def _handling_extras(self, ticket: Ticket, lead: Department, clock: Clock, v: int) -> None:
        if v % 5 in (0, 3):
            A.do_urge(ticket.pk, self.u["dispatcher"], comment="市民再次来电催促，请加快办理。", now=clock.after(4, 48))
        if v % 5 == 0:
            A.do_supervise(ticket.pk, self.u["supervisor"], "该事项已超期，列入重点督办。", now=clock.after(2, 24))
        if v % 5 in (0, 1):
            self._extension(ticket, lead, clock, approve=None)
        elif v % 5 == 2:
            self._extension(ticket, lead, clock, approve=bool(v % 2))


# --- the whole thing ----------------------------------------------------------------------------


def plan(count: int, rng: random.Random, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
    names = list(SCENARIOS)
    chosen = names[: min(count, len(names))]
    chosen += rng.choices(names, [SCENARIOS[n] for n in names], k=max(count - len(chosen), 0))
    out = []
    for name in chosen:
        lo, hi = AGE_DAYS.get(name, DEFAULT_AGE)
        start = now - dt.timedelta(days=rng.uniform(lo, hi))
        local = timezone.localtime(start)
        # Most calls arrive between 8:00 and 21:00.
        if local.hour < 8 or local.hour >= 21:
            start -= dt.timedelta(hours=(local.hour - rng.randint(9, 19)) % 24)
            if start > now:
                start -= dt.timedelta(days=1)
        out.append((start, name))
    out.sort()
    return out


def write_users_file(city: City) -> Path:
    path = Path(settings.DATA_DIR) / "demo-users.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# 滨江市演示账号 / demo accounts (username\tpassword\trole\tdepartment)\n")
        for row in city.passwords:
            f.write("\t".join(row) + "\n")
    path.chmod(0o600)
    return path


def build_demo(tickets: int = 400, *, now: dt.datetime | None = None, seed: int = 12345,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Create the demo city. Raises DemoExists when it is already there."""
    now = now or timezone.now()
    if demo_present():
        raise DemoExists("the demo city is already in this database")
    rng = random.Random(seed)
    with transaction.atomic():
        city = build_city()
        create_users(city, now)
        citizens = create_citizens(rng, max(40, tickets // 4))
    walker = Walker(city, citizens, rng, now)
    schedule = plan(tickets, rng, now)
    chunk = 20
    for i in range(0, len(schedule), chunk):
        with transaction.atomic():
            for start, scenario in schedule[i:i + chunk]:
                walker.run(scenario, start)
        if progress:
            progress(min(i + chunk, len(schedule)), len(schedule))
    urged = run_deadline_job(now)
    path = write_users_file(city)
    counts = {s: Ticket.objects.filter(status=s).count() for s in Status.values}
    return {"city": city, "users_file": path, "urged": urged, "counts": counts}


def reset_demo() -> None:
    """Erase the whole database (demo databases only) and put the standard dictionary back."""
    from django.apps import apps
    from django.core.management import call_command

    from hotline.directory import seed

    call_command("flush", interactive=False, verbosity=0)
    seed.apply(apps)
