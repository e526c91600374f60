"""The standard dictionary every installation starts with (migration 0002).

Administrators may change all of it afterwards; nothing in the code depends on
these particular rows except through their codes in the demo data.
"""

from __future__ import annotations

SERVICE_TYPES = [
    ("consult", "咨询"), ("complaint", "投诉"), ("report", "举报"), ("suggest", "建议"),
    ("help", "求助"), ("praise", "表扬"), ("other", "其他"),
]

SOURCES = [
    ("phone", "电话"), ("web", "网站"), ("email", "电子邮件"), ("sms", "短信"), ("wechat", "微信"),
    ("letter", "来信"), ("mayor_mail", "市长信箱"), ("leader", "领导批示"), ("inspector", "督查发现"),
    ("transfer", "部门转来"), ("voicemail", "语音留言"), ("other", "其他"),
]

# code, name, [(code, name), ...]
CATEGORIES = [
    ("water", "供水", [("water.outage", "停水"), ("water.quality", "水质问题"), ("water.pressure", "水压不足"), ("water.pipe", "管道漏水")]),
    ("power", "供电", [("power.outage", "停电"), ("power.voltage", "电压不稳"), ("power.billing", "电费计费")]),
    ("gas", "燃气", [("gas.outage", "停气"), ("gas.leak", "燃气泄漏隐患"), ("gas.billing", "燃气收费")]),
    ("heating", "供暖", [("heating.cold", "室温不达标"), ("heating.fee", "供暖收费"), ("heating.leak", "暖气漏水")]),
    ("municipal", "市政设施", [("municipal.road", "道路破损"), ("municipal.light", "路灯故障"), ("municipal.drain", "排水井盖"), ("municipal.bridge", "桥梁设施")]),
    ("housing", "房产管理", [("housing.register", "不动产登记"), ("housing.demolition", "征收拆迁"), ("housing.rental", "房屋租赁")]),
    ("enforcement", "城管执法", [("enforcement.stall", "占道经营"), ("enforcement.building", "违章建筑"), ("enforcement.noise", "施工噪音")]),
    ("environment", "环境保护", [("environment.air", "大气污染"), ("environment.water", "水污染"), ("environment.noise", "噪声扰民"), ("environment.waste", "固废危废")]),
    ("planning", "城市规划", [("planning.approval", "规划审批"), ("planning.change", "规划变更")]),
    ("sanitation", "市容环卫", [("sanitation.garbage", "垃圾清运"), ("sanitation.toilet", "公厕管理"), ("sanitation.ad", "违规广告")]),
    ("landscape", "园林绿化", [("landscape.tree", "树木修剪"), ("landscape.park", "公园管理"), ("landscape.green", "绿地侵占")]),
    ("property", "物业管理", [("property.service", "物业服务"), ("property.fee", "物业收费"), ("property.elevator", "电梯故障"), ("property.fund", "维修资金")]),
    ("building", "建筑质量", [("building.leak", "房屋渗漏"), ("building.crack", "墙体开裂"), ("building.delivery", "交房问题")]),
    ("social", "社会保障", [("social.pension", "养老保险"), ("social.medical", "医疗保险"), ("social.unemployment", "失业保险"), ("social.wage", "拖欠工资")]),
    ("education", "教育", [("education.enroll", "入学招生"), ("education.fee", "教育收费"), ("education.training", "校外培训")]),
    ("health", "卫生健康", [("health.hospital", "医疗服务"), ("health.food", "食品安全"), ("health.vaccine", "疫苗接种")]),
    ("transport", "交通运输", [("transport.bus", "公交线路"), ("transport.taxi", "出租车服务"), ("transport.parking", "停车管理"), ("transport.signal", "交通信号")]),
    ("other", "其他", [("other.misc", "其他事项")]),
]

# (service type code or None, category code or None, handle days, sign days)
DEADLINE_RULES = [
    (None, None, 15, 1),
    ("consult", None, 5, 1),
    ("complaint", None, 15, 1),
    ("report", None, 30, 1),
    ("suggest", None, 15, 1),
    ("help", None, 10, 1),
    ("praise", None, 5, 1),
    ("other", None, 15, 1),
]


def apply(apps) -> None:  # type: ignore[no-untyped-def]
    ServiceType = apps.get_model("directory", "ServiceType")
    Source = apps.get_model("directory", "Source")
    Category = apps.get_model("directory", "Category")
    DeadlineRule = apps.get_model("directory", "DeadlineRule")
    for i, (code, name) in enumerate(SERVICE_TYPES):
        ServiceType.objects.update_or_create(code=code, defaults={"name": name, "sort": i})
    for i, (code, name) in enumerate(SOURCES):
        Source.objects.update_or_create(code=code, defaults={"name": name, "sort": i})
    for i, (code, name, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.update_or_create(code=code, defaults={"name": name, "sort": i, "parent": None})
        for j, (child_code, child_name) in enumerate(children):
            Category.objects.update_or_create(code=child_code, defaults={"name": child_name, "sort": j, "parent": parent})
    for st, cat, handle, sign in DEADLINE_RULES:
        DeadlineRule.objects.get_or_create(
            service_type=ServiceType.objects.get(code=st) if st else None,
            category=Category.objects.get(code=cat) if cat else None,
            defaults={"handle_days": handle, "sign_days": sign},
        )
