"""The catalogue of medical specialties (after the Ministry of Health's nomenclature)."""

from enum import StrEnum


class Specialty(StrEnum):
    THERAPY = "therapy"
    GENERAL_PRACTICE = "general_practice"
    PEDIATRICS = "pediatrics"
    CARDIOLOGY = "cardiology"
    NEUROLOGY = "neurology"
    OPHTHALMOLOGY = "ophthalmology"
    OTORHINOLARYNGOLOGY = "otorhinolaryngology"
    OBSTETRICS_GYNECOLOGY = "obstetrics_gynecology"
    SURGERY = "surgery"
    TRAUMATOLOGY_ORTHOPEDICS = "traumatology_orthopedics"
    ENDOCRINOLOGY = "endocrinology"
    DERMATOVENEREOLOGY = "dermatovenereology"
    UROLOGY = "urology"
    INFECTIOUS_DISEASES = "infectious_diseases"
    PULMONOLOGY = "pulmonology"
    GASTROENTEROLOGY = "gastroenterology"
    ONCOLOGY = "oncology"
    PSYCHIATRY = "psychiatry"
    PSYCHIATRY_NARCOLOGY = "psychiatry_narcology"
    PSYCHOTHERAPY = "psychotherapy"
    RADIOLOGY = "radiology"
    ULTRASOUND_DIAGNOSTICS = "ultrasound_diagnostics"
    CLINICAL_LABORATORY_DIAGNOSTICS = "clinical_laboratory_diagnostics"
    PHYSIOTHERAPY = "physiotherapy"
    DENTISTRY = "dentistry"
    ORTHODONTICS = "orthodontics"


SPECIALTY_TITLES: dict[Specialty, str] = {
    Specialty.THERAPY: "Терапия",
    Specialty.GENERAL_PRACTICE: "Общая врачебная практика (семейная медицина)",
    Specialty.PEDIATRICS: "Педиатрия",
    Specialty.CARDIOLOGY: "Кардиология",
    Specialty.NEUROLOGY: "Неврология",
    Specialty.OPHTHALMOLOGY: "Офтальмология",
    Specialty.OTORHINOLARYNGOLOGY: "Оториноларингология",
    Specialty.OBSTETRICS_GYNECOLOGY: "Акушерство и гинекология",
    Specialty.SURGERY: "Хирургия",
    Specialty.TRAUMATOLOGY_ORTHOPEDICS: "Травматология и ортопедия",
    Specialty.ENDOCRINOLOGY: "Эндокринология",
    Specialty.DERMATOVENEREOLOGY: "Дерматовенерология",
    Specialty.UROLOGY: "Урология",
    Specialty.INFECTIOUS_DISEASES: "Инфекционные болезни",
    Specialty.PULMONOLOGY: "Пульмонология",
    Specialty.GASTROENTEROLOGY: "Гастроэнтерология",
    Specialty.ONCOLOGY: "Онкология",
    Specialty.PSYCHIATRY: "Психиатрия",
    Specialty.PSYCHIATRY_NARCOLOGY: "Психиатрия-наркология",
    Specialty.PSYCHOTHERAPY: "Психотерапия",
    Specialty.RADIOLOGY: "Рентгенология",
    Specialty.ULTRASOUND_DIAGNOSTICS: "Ультразвуковая диагностика",
    Specialty.CLINICAL_LABORATORY_DIAGNOSTICS: "Клиническая лабораторная диагностика",
    Specialty.PHYSIOTHERAPY: "Физиотерапия",
    Specialty.DENTISTRY: "Стоматология общей практики",
    Specialty.ORTHODONTICS: "Ортодонтия",
}

# How a specialist of each specialty is called, e.g. on a record: «врач-терапевт».
SPECIALIST_TITLES: dict[Specialty, str] = {
    Specialty.THERAPY: "врач-терапевт",
    Specialty.GENERAL_PRACTICE: "врач общей практики (семейный врач)",
    Specialty.PEDIATRICS: "врач-педиатр",
    Specialty.CARDIOLOGY: "врач-кардиолог",
    Specialty.NEUROLOGY: "врач-невролог",
    Specialty.OPHTHALMOLOGY: "врач-офтальмолог",
    Specialty.OTORHINOLARYNGOLOGY: "врач-оториноларинголог",
    Specialty.OBSTETRICS_GYNECOLOGY: "врач-акушер-гинеколог",
    Specialty.SURGERY: "врач-хирург",
    Specialty.TRAUMATOLOGY_ORTHOPEDICS: "врач-травматолог-ортопед",
    Specialty.ENDOCRINOLOGY: "врач-эндокринолог",
    Specialty.DERMATOVENEREOLOGY: "врач-дерматовенеролог",
    Specialty.UROLOGY: "врач-уролог",
    Specialty.INFECTIOUS_DISEASES: "врач-инфекционист",
    Specialty.PULMONOLOGY: "врач-пульмонолог",
    Specialty.GASTROENTEROLOGY: "врач-гастроэнтеролог",
    Specialty.ONCOLOGY: "врач-онколог",
    Specialty.PSYCHIATRY: "врач-психиатр",
    Specialty.PSYCHIATRY_NARCOLOGY: "врач-психиатр-нарколог",
    Specialty.PSYCHOTHERAPY: "врач-психотерапевт",
    Specialty.RADIOLOGY: "врач-рентгенолог",
    Specialty.ULTRASOUND_DIAGNOSTICS: "врач ультразвуковой диагностики",
    Specialty.CLINICAL_LABORATORY_DIAGNOSTICS: "врач клинической лабораторной диагностики",
    Specialty.PHYSIOTHERAPY: "врач-физиотерапевт",
    Specialty.DENTISTRY: "врач-стоматолог",
    Specialty.ORTHODONTICS: "врач-ортодонт",
}
