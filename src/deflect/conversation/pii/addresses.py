"""Street addresses: Korean road-name (서울시 강남구 테헤란로 123, … 판교역로 235 101동 1203호) and lot-number
(역삼동 123-45) addresses, English street lines (221B Baker Street, 123 Main St, Apt 4) and romanised Korean ones
(Teheran-ro 152, Gangnam-gu, Seoul).

An address runs from its first region unit (시/도, 시/군/구, 읍/면) to the last building detail written after the
number (동, 호, 층, a named building). Without a region unit, a road or lot number alone is an address only when
something else says so: a detail, a numbered side street (강남대로94길), a dashed lot number or 번지, or an address
word nearby (주소, 배송지, address) - "택배로 3개", "이동 2번", "정가 12,000원" are not addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Spans = Iterator[tuple[int, int]]

_PROVINCES = (
    "서울특별시|서울시|서울|부산광역시|부산시|부산|대구광역시|대구시|대구|인천광역시|인천시|인천|광주광역시|광주시|광주"
    "|대전광역시|대전시|대전|울산광역시|울산시|울산|세종특별자치시|세종시|세종|경기도|경기|강원특별자치도|강원도|강원"
    "|충청북도|충북|충청남도|충남|전북특별자치도|전라북도|전북|전라남도|전남|경상북도|경북|경상남도|경남"
    "|제주특별자치도|제주도|제주"
)
# Everyday words that end like a region, a 동 or a 가/리 ("혹시", "친구", "자동", "정가", "수리").
_NOT_REGIONS = (
    "혹시|다시|역시|당시|즉시|동시|표시|게시|잠시|일시|임시|무시|지시|제시|항시|수시"
    "|친구|요구|입구|출구|가구|연구|도구|창구|지구|화면|라면|정면|측면|전면|반면"
)
_NOT_DONGS = (
    "자동|수동|이동|작동|연동|가동|행동|운동|활동|변동|진동|구동|공동|출동|감동|발동|시동|냉동|충동|노동|소동"
    "|정가|단가|원가|시가|평가|추가|특가|할인가|판매가|소비자가|최저가|최고가|대가|물가|주가"
    "|수리|처리|관리|거리|요리|무리|유리|정리|우리|소리|자리|머리|다리|마리|고리|미리|빨리|멀리|따리"
)
_WORD_START = r"(?<![가-힣0-9A-Za-z])"
_REGION = rf"{_WORD_START}(?!(?:{_NOT_REGIONS})(?![가-힣]))(?:{_PROVINCES}|[가-힣]{{1,5}}(?:시|군|구|읍|면))(?![가-힣])"
_DONG = (
    rf"{_WORD_START}(?!(?:{_NOT_DONGS})(?![가-힣]))"
    r"[가-힣]{1,6}(?:[0-9]{1,2}(?:동|가)|동|리|가)(?: ?[0-9]{1,2}가)?"
)
# Adverbs and instrumental nouns end like a road (바로, 새로, 그대로, 택배로 …); no road name ends in 으로.
_NOT_ROADS = (
    "새로|바로|별로|주로|서로|따로|절로|홀로|날로|실로|정말로|진짜로|실제로|[가-힣]*으로"
    "|그대로|제대로|이대로|마음대로|멋대로|순서대로|예정대로|말대로|약속대로|원래대로|생각대로|규정대로|요청대로|안내대로"
    "|(?:서울|부산|대구|인천|광주|대전|울산|세종|제주|경기|강원|지방|해외|국내|본사|매장|회사|집)로"
)
_ROAD = (
    rf"{_WORD_START}(?!(?:{_NOT_ROADS})(?![가-힣0-9]))[가-힣][가-힣0-9]{{0,10}}(?:로|길)"
    r"(?: ?[0-9]{1,3}번?길)?"  # 논현로 85길, 중앙로123번길
)
_UNITS = (
    "개월|번째|시간|주일|원|개|번(?!지)|층|호|일|분|시|회|차|명|건|년|월|주|살|세|장|권|병|통|곳|위|점|배|가지|만|천|억"
    "|박스|상자|봉지|팩|세트|켤레|벌|대|판|묶음|인분|잔|캔|알|봉|부|퍼센트|프로|킬로|그램|미터|리터|센치|사이즈|자리|인치|평"
)
_NUMBER_END = (
    r"(?![0-9]|[-.,][0-9])"  # not part of a longer number or a price (12,000)
    # "택배로 3개", "바로 2일에", "카드로 3개월": a count, not a building; "… 427 위워크타워" is a building name.
    rf"(?!(?:{_UNITS}|%|[a-zA-Z]))(?! (?:{_UNITS})(?![가-힣]))"
)
_UNIT_DETAIL = r"(?:[0-9]{1,4}동|[A-Z]동|[0-9]{1,5}호|(?:지하 ?|B)?[0-9]{1,3}층)"
_DETAIL = (
    rf"(?:(?:, ?| )(?:{_UNIT_DETAIL}"
    r"|[가-힣A-Za-z0-9]{1,12}(?:아파트|빌딩|빌라|오피스텔|타워|맨션|상가|프라자|플라자|센터|하우스)"
    rf"|[가-힣A-Za-z0-9]{{2,12}}(?= {_UNIT_DETAIL}))(?![0-9])){{0,3}}"  # a building's own name before its 동/층
)
_KO_ADDRESS = re.compile(
    rf"(?P<region>(?:{_REGION} ?){{0,4}})"
    rf"(?:(?P<dong>{_DONG}) (?P<lot>(?:산 ?)?[1-9][0-9]{{0,4}}(?:-[1-9][0-9]{{0,4}})?(?:번지)?)"
    rf"|(?P<road>{_ROAD}) ?(?P<number>[1-9][0-9]{{0,3}}(?:-[1-9][0-9]{{0,3}})?)){_NUMBER_END}"
    rf"(?P<detail>{_DETAIL})"
)
_NUMBERED_SIDE_STREET = re.compile(r"[0-9]+번?길$")
_DONG_OR_NUMBERED_GA = re.compile(r"(?:동|[0-9]가)$")  # 역삼동, 을지로3가; a bare 가/리 word is more often not a place
_ADDRESS_CUE = re.compile(r"주소|배송|배달|보내|수령지|회수지|반송지|도착지|사는 곳|거주|자택|\baddress", re.IGNORECASE)
_CUE_WINDOW = 20


def _korean_addresses(text: str) -> Spans:
    for match in _KO_ADDRESS.finditer(text):
        start, end = match.span()
        lot = match.group("lot")
        if (
            match.group("region")
            or match.group("detail")
            or (match.group("road") and _NUMBERED_SIDE_STREET.search(match.group("road")))
            or (lot and ("-" in lot or lot.endswith("번지")) and _DONG_OR_NUMBERED_GA.search(match.group("dong")))
            or _ADDRESS_CUE.search(text, max(0, start - _CUE_WINDOW), min(len(text), end + _CUE_WINDOW))
        ):
            yield start, end


_STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Close|Crescent"
    "|Square|Sq|Highway|Hwy|Parkway|Pkwy|Circle|Loop|Row|Mews|Gardens|Grove|Walk"
)
_STREET_WORD = r"(?:[A-Z][a-z]+(?:'s)?|[0-9]{1,3}(?:st|nd|rd|th))"
_UNIT = r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm)\.? ?#?[0-9A-Za-z]{1,6}|,? #[0-9A-Za-z]{1,6})"
_UK_POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"
_CITY_TAIL = rf", [A-Z][a-z]+(?: [A-Z][a-z]+)?(?:, [A-Z]{{2}} [0-9]{{5}}(?:-[0-9]{{4}})?| {_UK_POSTCODE})"
_EN_STREET = re.compile(
    rf"(?<![0-9A-Za-z])[1-9][0-9]{{0,5}}[A-Za-z]?(?:-[0-9]{{1,4}})? (?:{_STREET_WORD} ){{1,4}}(?:{_STREET_TYPES})\b"
    rf"(?: (?:N|S|E|W|NE|NW|SE|SW)\b)?(?:{_UNIT})*(?:{_CITY_TAIL})?"
)
_ROMANISED_ROAD = r"[A-Z][a-z]+(?:-[a-z]+)*-(?:daero|ro|gil)(?: ?[0-9]{1,3}(?:beon)?-gil)?"
_ROMANISED_AREAS = (
    r"(?:, [A-Z][a-z]+(?:-[a-z]+)*-(?:gu|si|gun|dong|eup|myeon|do))*"
    r"(?:, (?:Seoul|Busan|Incheon|Daegu|Daejeon|Gwangju|Ulsan|Sejong|Jeju))?"
)
_ROMANISED_NUMBER = r"[1-9][0-9]{0,3}(?:-[0-9]{1,4})?"
_ROMANISED = re.compile(
    r"(?<![0-9A-Za-z])"
    rf"(?:{_ROMANISED_ROAD} {_ROMANISED_NUMBER}|{_ROMANISED_NUMBER} {_ROMANISED_ROAD})"
    rf"(?![0-9A-Za-z-]){_ROMANISED_AREAS}"
)


def find_addresses(text: str) -> Spans:
    yield from _korean_addresses(text)
    for pattern in (_EN_STREET, _ROMANISED):
        for match in pattern.finditer(text):
            yield match.span()
