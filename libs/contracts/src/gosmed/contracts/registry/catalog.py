"""The portal's eight categories of medical services (the nomenclature's grouping)."""

from enum import StrEnum


class ServiceCategory(StrEnum):
    OUTPATIENT_VISIT = "outpatient_visit"
    INPATIENT = "inpatient"
    LABORATORY = "laboratory"
    IMAGING = "imaging"
    PREVENTION = "prevention"
    REHABILITATION = "rehabilitation"
    DENTISTRY = "dentistry"
    PAID = "paid"


CATEGORY_TITLES: dict[ServiceCategory, str] = {
    ServiceCategory.OUTPATIENT_VISIT: "Амбулаторные приёмы",
    ServiceCategory.INPATIENT: "Стационарное лечение и операции",
    ServiceCategory.LABORATORY: "Лабораторные исследования",
    ServiceCategory.IMAGING: "Лучевая и инструментальная диагностика",
    ServiceCategory.PREVENTION: "Профилактика: прививки и обследования",
    ServiceCategory.REHABILITATION: "Реабилитация: физиотерапия, массаж",
    ServiceCategory.DENTISTRY: "Стоматология",
    ServiceCategory.PAID: "Платные услуги",
}
