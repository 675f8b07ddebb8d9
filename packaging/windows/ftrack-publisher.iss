; Inno Setup script: the Windows installer of ftrack publisher.
;
; Cannot be built on Linux or macOS: it needs Inno Setup 6 (iscc.exe) on Windows, and the
; one-folder app built there first by `python packaging\build.py` (PyInstaller does not
; cross-compile). build.py runs iscc itself when it finds it; by hand, from the repository root:
;   iscc /DAppVersion=0.1.0 packaging\windows\ftrack-publisher.iss
; Output: dist\ftrack-publisher-<version>-setup.exe (a per-user install, no administrator rights).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef RootDir
  #define RootDir "..\.."
#endif
#ifndef DistDir
  #define DistDir RootDir + "\dist"
#endif

[Setup]
AppId={{6F1B7C2E-3E0A-4B8B-9A57-5C3D2E6B1F40}
AppName=ftrack publisher
AppVersion={#AppVersion}
AppPublisher=ftrack
DefaultDirName={autopf}\ftrack publisher
DefaultGroupName=ftrack publisher
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#DistDir}
OutputBaseFilename=ftrack-publisher-{#AppVersion}-setup
SetupIconFile={#RootDir}\build\icons\ftrack-publisher.ico
UninstallDisplayIcon={app}\ftrack-publisher.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#DistDir}\ftrack-publisher\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\ftrack publisher"; Filename: "{app}\ftrack-publisher.exe"
Name: "{group}\ftrack publisher self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\ftrack-publisher.exe"" --self-test"
Name: "{group}\{cm:UninstallProgram,ftrack publisher}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\ftrack publisher"; Filename: "{app}\ftrack-publisher.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\ftrack-publisher.exe"; Description: "{cm:LaunchProgram,ftrack publisher}"; Flags: nowait postinstall skipifsilent
