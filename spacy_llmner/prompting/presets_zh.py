"""The CLUENER2020 label set, with the seed's Chinese names and its instruction-2 descriptions.

Tags stay the English CLUENER labels (``<name>…</name>``): ASCII tag names are few tokens in any
tokenizer and are valid XML names, while a Chinese tag such as ``<人名>`` costs several tokens per
tag in most vocabularies and would tie the tags to one language. The Chinese goes where it
helps the model read the task, the description in the prompt: the seed's entity name
(``entity_map``) and its instruction-2 explanation with examples. Label order follows the seed's
``entity_map``. Pure data.
"""

from __future__ import annotations

# label -> the seed's Chinese entity name (its `entity_map`).
CLUENER_NAMES: dict[str, str] = {
    "name": "人名",
    "organization": "组织机构",
    "scene": "景点",
    "company": "企业",
    "movie": "影视",
    "book": "书籍",
    "government": "政府",
    "position": "职位",
    "address": "地点",
    "game": "游戏",
}

# The seed's instruction-2 definitions ("代表X类实体，如：…"). The seed's page shows the first
# organization example as "**足协" (markdown ate the characters); CLUENER's own guidelines
# give 中国足协 there.
_DEFINITIONS: dict[str, str] = {
    "name": "代表人名类实体，如：张三、刘德华、特朗普等",
    "organization": "代表组织机构类实体，如：中国足协、美国儿童基金会等",
    "scene": "代表景点类实体，如：故宫、西湖、敦煌莫高窟等",
    "company": "代表企业类实体，如：京东、越南发展银行、杭州清风科技有限公司等",
    "movie": "代表影视类实体，如：《天下无贼》、英雄等",
    "book": "代表书籍类实体，如：红与黑、《活着》等",
    "government": "代表政府类实体，如：印度外交部、发改委等",
    "position": "代表职位类实体，如：老师、记者等",
    "address": "代表地点类实体，如：北京、纽约、太平村等",
    "game": "代表游戏类实体，如：dota2、《使命召唤》等",
}

# label -> one-line description for the prompt: "人名：代表人名类实体，如：…".
CLUENER: dict[str, str] = {label: f"{CLUENER_NAMES[label]}：{_DEFINITIONS[label]}" for label in CLUENER_NAMES}
